"""`/docs` of `lessons serve` rendered by headless chromium that cannot reach any other host (browser)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .browser_support import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS
from .test_serve_load import server  # noqa: F401  (the fixture: uvicorn on 127.0.0.1)

pytestmark = pytest.mark.browser

# Every host name but 127.0.0.1 resolves to nothing: a page that needs a CDN stays blank.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"

_RESOURCES_JS = "return performance.getEntriesByType('resource').map(e => e.name);"


def _offline_browser(tmp_path: Path) -> Any:
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.skip(f"no chromium at {CHROMIUM} or no chromedriver at {CHROMEDRIVER}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, OFFLINE, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def test_swagger_ui_renders_every_endpoint_without_internet(server: tuple[int, Any], tmp_path: Path) -> None:  # noqa: F811
    """Swagger UI at /docs lists /ask, /similar, /entries/{entry_id} and /health with only local requests."""
    from selenium.webdriver.common.by import By

    port, _ = server
    driver = _offline_browser(tmp_path)
    try:
        driver.get(f"http://127.0.0.1:{port}/docs")
        deadline = time.monotonic() + 60
        paths: list[str] = []
        while time.monotonic() < deadline:
            paths = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")]
            if len(paths) >= 4:
                break
            time.sleep(0.2)
        assert {"/ask", "/similar", "/entries/{entry_id}", "/health"} <= {p.replace("\u200b", "") for p in paths}
        resources = driver.execute_script(_RESOURCES_JS)
        assert resources, "the page loaded nothing"
        assert all(str(url).startswith(f"http://127.0.0.1:{port}/") for url in resources), resources
    finally:
        driver.quit()
