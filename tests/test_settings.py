"""Settings: one settings.load() for every edge, and a bad LESSONS_* value named by its variable."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lessons import settings
from lessons.cli import app


@pytest.mark.parametrize(
    ("variable", "value"),
    [("LESSONS_THREADS", "0"), ("LESSONS_TOP_K", "many"), ("LESSONS_NO_MATCH_MARGIN", "7")],
)
def test_a_bad_value_is_named_by_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    """settings.load() raises SettingsError naming the variable and the value, not pydantic's internals."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(settings.SettingsError) as info:
        settings.load()
    message = str(info.value)
    assert message.startswith(f"{variable}: ") and repr(value) in message
    assert "pydantic" not in message and "validation error" not in message.lower()


def test_the_cli_reports_a_bad_setting_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any command with a bad LESSONS_* value exits 1 with one 'error: LESSONS_…' line and no traceback."""
    monkeypatch.setenv("LESSONS_THREADS", "0")
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 1
    assert "error: LESSONS_THREADS: " in result.output
    assert "Traceback" not in result.output


def test_good_values_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Valid values from the environment arrive typed in the Settings object."""
    monkeypatch.setenv("LESSONS_THREADS", "3")
    monkeypatch.setenv("LESSONS_TOP_K", "7")
    loaded = settings.load()
    assert loaded.threads == 3 and loaded.top_k == 7
