"""A small OpenID Connect provider for the organisation sign-in browser test (test-only).

It speaks the authorisation-code flow `st.login` (Authlib's client) uses: discovery, an authorise page where the
tester picks a user by a button (``name="sub"``), the token endpoint (client secret checked, the nonce put into
the ID token), the signing key set and userinfo. ID tokens are RS256, signed with a key made per start through
joserfc (Authlib's own JOSE library; the ``oidc-provider-mock`` package this replaces imported the deprecated
``authlib.jose``). It listens on 127.0.0.1 only, in a thread, started and stopped by the test.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

MAX_BODY = 16 * 1024  # a form or token request larger than this is refused
CODE_SECONDS = 60.0  # an authorisation code is good for this long, once


@dataclass
class Provider:
    """The provider's state: its users (sub -> claims), the client it knows and the codes it has handed out."""

    users: dict[str, dict[str, Any]]
    client_id: str
    client_secret: str
    issuer: str = ""
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    key: Any = None

    def metadata(self) -> dict[str, Any]:
        """The discovery document."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/oauth2/authorize",
            "token_endpoint": f"{self.issuer}/oauth2/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "grant_types_supported": ["authorization_code"],
        }

    def id_token(self, sub: str, nonce: str | None) -> str:
        """A signed ID token for ``sub`` with its claims."""
        from joserfc import jwt

        now = int(time.time())
        claims = {"iss": self.issuer, "sub": sub, "aud": self.client_id, "iat": now, "exp": now + 600}
        claims |= self.users[sub]
        if nonce:
            claims["nonce"] = nonce
        return str(jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key))


class _Handler(BaseHTTPRequestHandler):
    provider: Provider

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test's output is the app's."""

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, data: dict[str, Any], status: int = 200) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), "application/json")

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        pairs = parse_qs(self.rfile.read(length).decode("utf-8"), max_num_fields=50)
        return {name: values[0] for name, values in pairs.items()}

    def do_GET(self) -> None:
        """Discovery, keys, userinfo and the authorise page."""
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query, max_num_fields=50).items()}
        provider = self.provider
        if url.path == "/.well-known/openid-configuration":
            self._json(provider.metadata())
        elif url.path == "/jwks":
            self._json({"keys": [provider.key.as_dict(private=False) | {"kid": "test-key", "use": "sig"}]})
        elif url.path == "/userinfo":
            self._userinfo()
        elif url.path == "/oauth2/authorize":
            self._authorise_page(query)
        else:
            self._json({"error": "not_found"}, 404)

    def do_POST(self) -> None:
        """The picked user (from the authorise page), the token exchange and userinfo."""
        url = urlsplit(self.path)
        try:
            form = self._form()
        except ValueError:
            self._json({"error": "invalid_request"}, 413)
            return
        if url.path == "/oauth2/authorize":
            self._authorised(form)
        elif url.path == "/oauth2/token":
            self._token(form)
        elif url.path == "/userinfo":
            self._userinfo()
        else:
            self._json({"error": "not_found"}, 404)

    def _authorise_page(self, query: dict[str, str]) -> None:
        if query.get("client_id") != self.provider.client_id or query.get("response_type") != "code":
            self._json({"error": "invalid_request"}, 400)
            return
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in query.items()
            if name in {"redirect_uri", "state", "nonce", "client_id"}
        )
        buttons = "".join(
            f'<button type="submit" name="sub" value="{html.escape(sub)}">{html.escape(sub)}</button>'
            for sub in self.provider.users
        )
        page = f'<!doctype html><title>Sign in</title><form method="post">{hidden}{buttons}</form>'
        self._send(200, page.encode("utf-8"), "text/html; charset=utf-8")

    def _authorised(self, form: dict[str, str]) -> None:
        sub, redirect = form.get("sub", ""), form.get("redirect_uri", "")
        if sub not in self.provider.users or not redirect.startswith("http://127.0.0.1:"):
            self._json({"error": "invalid_request"}, 400)
            return
        code = secrets.token_urlsafe(24)
        with self.provider.lock:
            self.provider.codes[code] = {
                "sub": sub,
                "nonce": form.get("nonce"),
                "redirect_uri": redirect,
                "until": time.monotonic() + CODE_SECONDS,
            }
        query = urlencode({"code": code, **({"state": form["state"]} if "state" in form else {})})
        self._send(302, b"", "text/plain", {"Location": f"{redirect}?{query}"})

    def _client_ok(self, form: dict[str, str]) -> bool:
        import base64

        given = (form.get("client_id", ""), form.get("client_secret", ""))
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            from urllib.parse import unquote

            name, _, secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
            given = (unquote(name), unquote(secret))
        return given == (self.provider.client_id, self.provider.client_secret)

    def _token(self, form: dict[str, str]) -> None:
        if not self._client_ok(form):
            self._json({"error": "invalid_client"}, 401)
            return
        with self.provider.lock:
            grant = self.provider.codes.pop(form.get("code", ""), None)  # a code is used once
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant["until"] < time.monotonic()
            or grant["redirect_uri"] != form.get("redirect_uri")
        ):
            self._json({"error": "invalid_grant"}, 400)
            return
        self._json(
            {
                "access_token": f"access-{grant['sub']}-{secrets.token_urlsafe(8)}",
                "token_type": "Bearer",
                "expires_in": 600,
                "scope": "openid profile email",
                "id_token": self.provider.id_token(grant["sub"], grant["nonce"]),
            }
        )

    def _userinfo(self) -> None:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        sub = next((s for s in self.provider.users if token.startswith(f"access-{s}-")), None)
        if sub is None:
            self._json({"error": "invalid_token"}, 401)
            return
        self._json({"sub": sub, **self.provider.users[sub]})


@contextmanager
def oidc_provider(users: dict[str, dict[str, Any]], client_id: str, client_secret: str) -> Iterator[str]:
    """The provider on 127.0.0.1 at a free port, in a thread; yields its issuer URL and stops it afterwards."""
    from joserfc.jwk import RSAKey

    provider = Provider(users=users, client_id=client_id, client_secret=client_secret)
    provider.key = RSAKey.generate_key(2048, private=True)
    handler = type("Handler", (_Handler,), {"provider": provider})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield provider.issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
