"""`lessons serve`: the read-only HTTP API (lessons.api) on uvicorn; `lessons app`: the Streamlit app."""

from __future__ import annotations

from typing import Annotated

import typer

from lessons.cli.common import USE, app, err, errors, load_settings
from lessons.errors import LessonsError


@app.command(rich_help_panel=USE)
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 exposes it to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes sharing the port.")] = 1,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Load balancer addresses trusted for X-Forwarded-For (comma-separated), so rate limits "
            "count real clients."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level: critical, error, warning, info, debug.")] = "info",
) -> None:
    """Serve the JSON API: POST /ask, POST /similar, GET /entries/{id}, GET /health; docs at /docs."""
    with errors():
        import uvicorn

        from lessons.api import refuse_if_reading_is_closed

        settings = load_settings()  # fail here, with the variable named, rather than in every worker
        refuse_if_reading_is_closed(settings)
        if log_level not in ("critical", "error", "warning", "info", "debug"):
            raise LessonsError(f"unknown log level {log_level!r}")
        err.print(
            f"serving {settings.index_dir} on http://{host}:{port} ({workers} process{'es' if workers > 1 else ''}); "
            "API docs at /docs"
        )
        uvicorn.run(
            "lessons.api:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=forwarded_allow_ips is not None,
            forwarded_allow_ips=forwarded_allow_ips,
            log_level=log_level,
            timeout_graceful_shutdown=10,
            server_header=False,
        )


@app.command(
    "app",
    rich_help_panel=USE,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run_app(ctx: typer.Context) -> None:
    """Start the web app (Streamlit), loading the query path and index as the server starts.

    Streamlit's options pass through, e.g. `lessons app --server.port 8502`.
    """
    from lessons.ui.launch import main

    main(ctx.args)
