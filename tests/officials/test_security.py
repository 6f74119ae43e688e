"""Headers, CSRF and no inline code on the officials' pages; citizens' pages unchanged."""
from __future__ import annotations

import re


ADMIN_PAGES = ["/admin/", "/admin/campaigns", "/admin/instruments", "/admin/users", "/admin/audit",
               "/admin/instruments/upload", "/account/password"]


def test_official_pages_carry_the_security_headers_and_no_inline_code(world, as_user):
    client = as_user("demo-admin")
    pages = ADMIN_PAGES + [f"/admin/units/{world.p2.id}", f"/admin/units/{world.p2.id}/campaigns/new",
                           f"/admin/campaigns/{world.p2_campaign.id}", f"/admin/users/{world.p2admin.id}",
                           f"/admin/units/{world.p2.id}/new", f"/admin/units/{world.p2.id}/move"]
    for url in pages:
        with client.get(url) as page:
            html = page.get_data(as_text=True)
            assert page.status_code == 200, url
            csp = page.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
            assert page.headers["X-Frame-Options"] == "DENY"
            assert page.headers["X-Content-Type-Options"] == "nosniff"
            assert page.headers["Referrer-Policy"] == "same-origin"
            assert page.headers["Cache-Control"] == "no-store", url
            assert "<script" not in html and "<style" not in html and " style=" not in html, url
            assert not re.search(r"\son[a-z]+=", html), f"inline handler on {url}"
            assert "/static/admin.css" in html
            # every form that changes something posts with a CSRF token
            for form in re.findall(r"<form[^>]*>.*?</form>", html, re.S):
                if 'method="post"' in form:
                    assert 'name="csrf_token"' in form, (url, form[:120])


def test_every_state_change_refuses_a_missing_csrf_token(world, as_user):
    client = as_user("demo-admin")
    for url in [f"/admin/units/{world.p2.id}/deactivate", f"/admin/campaigns/{world.p2_campaign.id}/close",
                f"/admin/units/{world.p2.id}/new", "/logout", f"/admin/users/{world.demo_viewer.id}/deactivate"]:
        with client.post(url, data={"name_vi": "x"}) as response:
            assert response.status_code == 400, url
            assert "Biểu mẫu này đã hết hạn" in response.get_data(as_text=True) or response.status_code == 400
    with client.get(f"/admin/campaigns/{world.p2_campaign.id}") as page:
        assert "đang mở" in page.get_data(as_text=True)


def test_citizen_pages_do_not_load_the_officials_styles(client):
    with client.get("/s/p2motcua") as page:
        html = page.get_data(as_text=True)
        assert "admin.css" not in html and 'class="onav"' not in html and "<body>" in html


def test_the_admin_stylesheet_is_served_and_small(client):
    with client.get("/static/admin.css") as css:
        assert css.status_code == 200 and len(css.data) < 12 * 1024


def test_odd_ids_are_404_never_500(world, as_user):
    client = as_user("demo-admin")
    for url in ["/admin/units/abc", "/admin/units/-1", "/admin/units/99999999999", "/admin/campaigns/0",
                "/admin/users/2147483648", "/admin/instruments/versions/99999/preview", "/admin/units/0/new"]:
        with client.get(url) as response:
            assert response.status_code == 404, url
    with client.post("/admin/grants/0/revoke", data={}) as response:
        assert response.status_code in (400, 404)
    with client.get("/admin/grants/1/revoke") as response:
        assert response.status_code == 405
