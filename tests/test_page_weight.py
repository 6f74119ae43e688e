"""What the SIPAS survey page costs a phone: bytes over the wire, in headless Chromium.

"Over the wire" is the compressed (encoded) body of the page plus every same-origin
resource it makes the browser fetch, as Chromium counts it (``request.sizes()``). The
server counts too, so a fetch Playwright does not report (the favicon) is caught. Run with
``-s`` to see the figures (benchmarks/README.md, "Page weight").
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from browser import chromium_page, live_server

pytestmark = pytest.mark.browser

SIPAS = "/s/p2motcua"
FIRST_VISIT_MAX = 5000  # bytes: the page and its stylesheet
NEXT_VISIT_MAX = 4000  # bytes: the page alone, the stylesheet comes from the browser's cache


class ServerLog:
    """WSGI middleware: every request the server answered, with the bytes of its body."""

    def __init__(self, app):
        self.app = app
        self.seen: list[dict] = []

    def __call__(self, environ, start_response):
        record = {"path": environ.get("PATH_INFO", ""), "body": 0}
        self.seen.append(record)  # now: the browser may see the answer before the loop below ends

        def start(status, headers, exc_info=None):
            record["status"] = int(status.split()[0])
            record["encoding"] = dict((k.lower(), v) for k, v in headers).get("content-encoding")
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        try:
            for chunk in body:
                record["body"] += len(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()


@contextmanager
def visit(page, log: ServerLog, go):
    """Yields the list of (url, sizes, encoded body, decoded body) for what the server sent."""
    finished = []

    def on_finished(request):
        finished.append(request)

    page.on("requestfinished", on_finished)
    log.seen.clear()
    go()
    page.wait_for_load_state("networkidle")
    page.remove_listener("requestfinished", on_finished)
    served = [r["path"] for r in log.seen]
    loads = []
    for request in finished:
        path = request.url.split("//", 1)[1].split("/", 1)[1].split("?")[0]
        if "/" + path in served:  # not from the browser's cache
            response = request.response()
            loads.append({"url": request.url, "status": response.status,
                          "encoding": response.header_value("content-encoding"),
                          "body": request.sizes()["responseBodySize"],
                          "headers": request.sizes()["responseHeadersSize"],
                          "decoded": len(response.body())})
    yield loads, served


def describe(name: str, loads: list[dict]) -> str:
    lines = [f"{name}: {sum(x['body'] for x in loads)} B compressed body "
             f"({sum(x['body'] + x['headers'] for x in loads)} B with response headers), "
             f"{sum(x['decoded'] for x in loads)} B uncompressed"]
    lines += [f"  {x['url'].split('/', 3)[3]}: {x['encoding']} {x['body']} B (+{x['headers']} B headers), "
              f"{x['decoded']} B uncompressed" for x in loads]
    return "\n".join(lines)


def test_sipas_survey_page_weighs_under_5_kb_first_and_4_kb_next(demo_app):
    log = ServerLog(demo_app)
    with live_server(log) as base, chromium_page() as page:
        with visit(page, log, lambda: page.goto(base + SIPAS)) as (first, served):
            assert sorted(served) == sorted([SIPAS, "/static/site.css"])  # no favicon, nothing else
            assert {x["encoding"] for x in first} == {"br"}  # Chromium accepts brotli on localhost
            first_bytes = sum(x["body"] for x in first)
            print("\n" + describe("first visit", first))
        with visit(page, log, lambda: page.goto(base + SIPAS)) as (again, served):
            assert served == [SIPAS]  # the stylesheet is immutable: not even revalidated
            next_bytes = sum(x["body"] for x in again)
            print(describe("next visit", again))
        with visit(page, log, page.reload) as (reloaded, served):
            assert served == [SIPAS]
            reload_bytes = sum(x["body"] for x in reloaded)
            print(describe("reload", reloaded))

    assert first_bytes <= FIRST_VISIT_MAX
    assert next_bytes <= NEXT_VISIT_MAX and reload_bytes <= NEXT_VISIT_MAX
    # with every response header counted too the budget still holds
    assert sum(x["body"] + x["headers"] for x in first) <= FIRST_VISIT_MAX
    assert sum(x["body"] + x["headers"] for x in again) <= NEXT_VISIT_MAX
    # Chromium and the server agree on the bytes of each compressed body
    sent = {r["path"]: r["body"] for r in log.seen}
    assert [x["body"] for x in reloaded] == [sent[SIPAS]]


def test_with_javascript_the_progress_bar_fits_the_same_budget(demo_app):
    """A phone with JavaScript also fetches progress.js once (immutable, like the stylesheet):
    the bodies stay under the budget on the first visit, and the next visit is the page alone."""
    log = ServerLog(demo_app)
    with live_server(log) as base, chromium_page(javascript=True) as page:
        with visit(page, log, lambda: page.goto(base + SIPAS)) as (first, served):
            assert sorted(served) == sorted([SIPAS, "/static/site.css", "/static/progress.js"])
            assert {x["encoding"] for x in first} == {"br"}
            print("\n" + describe("first visit, JavaScript on", first))
        assert page.locator("#survey-progress").count() == 1
        with visit(page, log, lambda: page.goto(base + SIPAS)) as (again, served):
            assert served == [SIPAS]
            print(describe("next visit, JavaScript on", again))
    assert sum(x["body"] for x in first) <= FIRST_VISIT_MAX
    assert sum(x["body"] for x in again) <= NEXT_VISIT_MAX
    assert sum(x["body"] + x["headers"] for x in again) <= NEXT_VISIT_MAX
