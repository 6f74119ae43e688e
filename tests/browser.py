"""Live server and headless Chromium for the browser tests (Debian's chromium; no download)."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


@contextmanager
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium_page(viewport=(360, 740), mobile: bool = True, javascript: bool = False) -> Iterator:
    """A page in a fresh profile: a phone by default; ``mobile=False`` for a desktop."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": viewport[0], "height": viewport[1]}, is_mobile=mobile, has_touch=mobile,
            locale="vi-VN", java_script_enabled=javascript,
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def loaded_width(image) -> int:
    """The natural width of an <img> (a Playwright locator) once the browser has loaded it or
    given up on it (0 then): charts are drawn on request, slowly on a loaded machine."""
    return image.evaluate("img => (img.complete ? Promise.resolve() : new Promise(done => {"
                          " img.addEventListener('load', done, {once: true});"
                          " img.addEventListener('error', done, {once: true}); }))"
                          ".then(() => img.naturalWidth)")
