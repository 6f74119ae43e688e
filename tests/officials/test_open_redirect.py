"""After login the redirect stays on this site, whatever ``next`` says: the outside probe's
``/login?next=/%09/evil.example/phish`` answered ``Location: //evil.example/phish``."""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest

from survey_app.auth import safe_next

# What arrives in ``next`` (the query string already decoded once by the framework).
EVIL = [
    "/\t/evil.example/phish",  # /%09/evil.example/phish in the address
    "/%09/evil.example/phish",
    "/\n/evil.example", "/\r/evil.example", "/ /evil.example", "/\x00/evil.example", "/\x0b/evil.example",
    "/\u200b/evil.example", "/\u3000/evil.example", "/%E2%80%8B/evil.example",
    "//evil.example", "///evil.example", "/\\evil.example", "/\\/evil.example", "\\\\evil.example",
    "/%2F%2Fevil.example", "/%2f/evil.example", "/%252F%252Fevil.example", "/%5Cevil.example", "/%5C%5Cevil.example",
    "https://evil.example/", "http:/evil.example", "HTTPS://evil.example", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example", "", "?next=//evil",
    "/admin/%0d%0aSet-Cookie:%20x=y",
]
SAFE = ["/admin/", "/admin/units/7", "/reports/3?instrument=sipas&from=2026-01-01&channel=qr",
        "/reports/3/comments?q=nh%C3%A2n+vi%C3%AAn", "/admin/units/7#kiosks"]


def on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (location.startswith("/") and not location.startswith("//") and not parts.scheme
            and not parts.netloc and not re.search(r"[\x00-\x20\\]", location))


@pytest.mark.parametrize("target", EVIL)
def test_safe_next_refuses_anything_that_could_leave_the_site(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", SAFE)
def test_safe_next_keeps_paths_on_this_site(target):
    assert safe_next(target) == target


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_the_login_redirect_stays_on_site_for_the_whole_family(demo_app, world, password):
    """A control character in the address or the form is refused before the login runs
    (400, ``survey_app/inputs.py``); everything else reaches ``safe_next``."""
    for evil in EVIL:
        client = demo_app.test_client()
        # as a link: /login?next=<evil>, percent-encoded in the address
        with client.get("/login?next=" + quote(evil, safe="")) as page:
            if page.status_code == 400:
                assert any(c < " " or c == "\x7f" for c in evil), (evil, "refused only for a control character")
            else:
                assert page.status_code == 200, evil
                assert re.search(r'name="next" type="hidden" value=""', page.get_data(as_text=True)), (
                    evil, "the form carries no next")
        # as a forged form: the hidden field sent back with any value
        with client.get("/login") as page:
            token = _token(page.get_data(as_text=True))
        with client.post("/login", data={"csrf_token": token, "username": "p2admin", "password": password,
                                         "next": evil}) as response:
            if response.status_code == 400:
                assert any((c < " " and c not in "\t\r\n") or c == "\x7f" for c in evil), evil
                continue
            assert response.status_code == 303, evil
            location = response.headers["Location"]
            assert on_site(location) and location == "/admin/", (evil, location)
    client = demo_app.test_client()
    with client.get("/login") as page:
        token = _token(page.get_data(as_text=True))
    with client.post("/login", data={"csrf_token": token, "username": "p2admin", "password": password,
                                     "next": SAFE[2]}) as response:
        assert response.headers["Location"] == SAFE[2], "a real page of the site is still returned to"
    with demo_app.test_client().get("/login?next=" + quote(SAFE[1], safe="")) as page:
        assert f'name="next" type="hidden" value="{SAFE[1]}"' in page.get_data(as_text=True)
