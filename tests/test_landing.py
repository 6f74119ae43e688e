"""The landing page ``/`` (find a service point, type a one-time code, follow a petition)
and the error pages that lead somewhere (#15): what each says, where it links, and that no
page shows a bare status code while the response keeps it."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

import helpers

from survey_app.extensions import db
from survey_app.models import Campaign, Unit
from survey_app.services.officials import lookup
from survey_app.services.officials.units import by_path, create_unit


def body_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def main_of(response) -> str:
    return body_of(response).split("<main>", 1)[1].split("</main>", 1)[0]


def links_in(text: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', text)


def point(code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def campaigns_at(code: str) -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).where(Campaign.units.contains(point(code)))))


# ------------------------------------------------------------------ the search service

def test_fold_ignores_diacritics_case_and_punctuation():
    assert lookup.fold("Bộ phận Một cửa — PHƯỜNG 2") == "bo phan mot cua phuong 2"
    assert lookup.fold("Trạm Y tế Đông Hà") == "tram y te dong ha"
    assert lookup.fold("Tr\u0323am") == lookup.fold("Trạm")  # decomposed input reads as composed
    assert lookup.fold("") == "" and lookup.fold(None) == ""


def test_a_point_is_found_without_diacritics_by_name_or_by_code(demo_app):
    found = lookup.search_points(db.session, "mot cua phuong 2")
    assert [m.code for m in found.matches] == ["p2motcua"] and not found.more
    [match] = found.matches
    assert match.name("vi") == "Bộ phận Một cửa Phường 2" and match.name("en") == "Ward 2 one-stop counter"
    assert match.trail("vi") == ("Phường 2", "Tỉnh Quảng Trị") and match.open_survey
    # the code, in capitals, comes first, before the names that merely contain it
    assert lookup.search_points(db.session, "  P2MOTCUA ").matches[0].code == "p2motcua"
    # with the diacritics typed, in English, or by the unit above
    assert [m.code for m in lookup.search_points(db.session, "Trạm Y tế Phường 1").matches] == ["p1yte"]
    assert [m.code for m in lookup.search_points(db.session, "ward 2 health").matches] == ["p2yte"]
    assert {m.code for m in lookup.search_points(db.session, "phuong 2").matches} == {"p2motcua", "p2yte",
                                                                                      "p2tieuhoc"}


def test_only_active_points_are_found_and_the_open_survey_is_known(demo_app):
    point("p1yte").active = False
    for campaign in campaigns_at("p2yte"):
        campaign.status = "closed"
    db.session.commit()
    assert lookup.search_points(db.session, "tram y te phuong 1").matches == []
    [p2yte] = lookup.search_points(db.session, "tram y te phuong 2").matches
    assert p2yte.code == "p2yte" and not p2yte.open_survey
    # a unit that is not a service point (the ward itself) is never listed
    assert all(m.code for m in lookup.search_points(db.session, "phuong").matches)


def test_the_results_are_bounded_and_more_is_said(demo_app):
    ward = by_path(db.session, "/vn/qt/p2/")
    for i in range(lookup.SEARCH_MAX_RESULTS + 3):
        create_unit(db.session, ward, f"quay-{i}", "one_stop", f"Quầy thử nghiệm số {i}", f"Test desk {i}",
                    f"p2quay{i}")
    db.session.commit()
    found = lookup.search_points(db.session, "quay thu nghiem")
    assert len(found.matches) == lookup.SEARCH_MAX_RESULTS and found.more


@pytest.mark.parametrize("query", ["", "   ", "x" * 10_000, "\u200b\u200b", "%_", "' OR 1=1 --", "Phường\u00a02",
                                   "\ufffd" * 50])
def test_any_query_is_answered(demo_app, query):
    found = lookup.search_points(db.session, query)
    assert len(found.query) <= lookup.SEARCH_MAX_CHARS
    assert len(found.matches) <= lookup.SEARCH_MAX_RESULTS


# ------------------------------------------------------------------ the landing page

def test_the_landing_page_offers_search_code_and_tracking_in_vietnamese(client):
    response = client.get("/")
    assert response.status_code == 200
    page = body_of(response)
    assert '<html lang="vi">' in page
    for text in ("Tìm nơi cung cấp dịch vụ", "Nhập mã khảo sát dùng một lần", 'action="/v?lang=vi"',
                 'method="post"', 'action="/t"', 'name="q"', 'role="search"', 'href="/d?lang=vi"'):
        assert text in page, text
    english = body_of(client.get("/?lang=en"))
    assert '<html lang="en">' in english and "Find a service point" in english and "Enter a one-time code" in english


def test_a_search_lists_points_with_their_path_and_links(client):
    for campaign in campaigns_at("p2yte"):
        campaign.status = "closed"
    db.session.commit()
    response = client.get("/?q=phuong+2")
    assert response.status_code == 200
    main = main_of(response)
    assert "Bộ phận Một cửa Phường 2" in main and "Phường 2 › Tỉnh Quảng Trị" in main
    links = links_in(main)
    assert "/s/p2motcua?lang=vi" in links and "/s/p2tieuhoc?lang=vi" in links
    assert "/s/p2yte?lang=vi" not in links and "/f/p2yte?lang=vi" in links  # closed: feedback only
    assert "Hiện chưa có đợt khảo sát nào đang mở tại đây." in main
    assert 'value="phuong 2"' in main  # the query stays in the box
    english = main_of(client.get("/?q=ward+2+one-stop&lang=en"))
    assert "Ward 2 one-stop counter" in english and "Answer the survey" in english


def test_a_search_that_finds_nothing_or_nothing_typed_says_so(client):
    assert "Không tìm thấy nơi nào khớp với “khong co dau ca”" in main_of(client.get("/?q=khong+co+dau+ca"))
    assert "Ông/Bà vui lòng gõ một phần tên hoặc mã của nơi cần tìm." in main_of(client.get("/?q="))


@pytest.mark.parametrize("query, status", [
    ("x" * 10_000, 200), ("%E2%80%8B", 200), ("%C3%28", 200), ("a%00b", 400), ("%1b[31m", 400), ("%7F", 400),
])
def test_odd_queries_are_never_a_server_error(client, query, status):
    response = client.get("/?q=" + query)
    assert response.status_code == status
    assert "Tìm nơi cung cấp dịch vụ" in body_of(response) or status == 400


# ------------------------------------------------------------------ error pages that lead somewhere

def no_status_code(response) -> None:
    main = main_of(response)
    assert "Mã lỗi" not in main and "Error code" not in main
    assert str(response.status_code) not in re.sub(r"<[^>]+>", " ", main)


@pytest.fixture
def spent_code(demo_app):
    """A one-time code of a token campaign at the primary school, already used."""
    return helpers.spent_code("p2tieuhoc")


def test_a_spent_code_thanks_and_leads_to_feedback_at_its_point(client, spent_code):
    response = client.get(f"/v/{spent_code}")
    assert response.status_code == 410
    main = main_of(response)
    assert "Mã này đã được sử dụng — cảm ơn Ông/Bà đã góp ý. Nếu Ông/Bà muốn góp ý thêm, xin mời gửi phản ánh tới " \
           "Trường Tiểu học Phường 2." in main
    assert links_in(main) == ["/f/p2tieuhoc?lang=vi", "/?lang=vi"]
    no_status_code(response)
    english = client.get(f"/v/{spent_code}?lang=en")
    assert english.status_code == 410
    assert "This code has already been used — thank you for your answers." in main_of(english)
    assert "Send feedback to Ward 2 Primary School" in main_of(english)
    no_status_code(english)


def test_typing_a_spent_code_shows_the_same_next_steps_on_the_form(client, spent_code):
    from helpers import hidden_fields

    form = client.get("/v").get_data(as_text=True)
    response = client.post("/v", data={**hidden_fields(form), "code": spent_code})
    assert response.status_code == 410
    main = main_of(response)
    assert "Mã này đã được sử dụng — cảm ơn Ông/Bà đã góp ý." in main and "/f/p2tieuhoc?lang=vi" in links_in(main)
    assert f'value="{spent_code}"' in main  # the typed code stays


def test_an_unknown_point_leads_to_the_search(client):
    response = client.get("/s/khongco")
    assert response.status_code == 404
    main = main_of(response)
    assert "Không tìm thấy khảo sát" in main and links_in(main) == ["/?lang=vi#find", "/?lang=vi"]
    no_status_code(response)


def test_a_closed_or_not_yet_open_campaign_leads_to_feedback(client):
    for campaign in campaigns_at("p2yte"):
        campaign.status = "closed"
    for campaign in campaigns_at("p1yte"):
        campaign.starts_at = datetime(2031, 3, 1, 1, 30, tzinfo=timezone.utc)
    db.session.commit()
    closed = client.get("/s/p2yte")
    assert closed.status_code == 410
    assert "Đợt khảo sát này đã kết thúc." in main_of(closed)
    assert links_in(main_of(closed)) == ["/f/p2yte?lang=vi", "/?lang=vi"]
    no_status_code(closed)
    later = client.get("/s/p1yte")
    assert later.status_code == 404
    assert "01/03/2031 08:30" in main_of(later) and links_in(main_of(later)) == ["/f/p1yte?lang=vi", "/?lang=vi"]
    no_status_code(later)


def test_a_missing_page_and_a_missing_tracking_code_offer_a_way_on(client):
    missing = client.get("/khong-co-trang-nay")
    assert missing.status_code == 404 and links_in(main_of(missing)) == ["/?lang=vi"]
    no_status_code(missing)
    tracking = client.get("/t/7K3QM-XD9FP")
    assert tracking.status_code == 404
    assert links_in(main_of(tracking)) == ["/t?lang=vi", "/?lang=vi"]
    no_status_code(tracking)


def test_too_many_requests_explains_without_the_code(variant):
    app = variant(RATELIMIT_ENABLED=True, RATELIMIT_TRACKING_LOOKUP="1 per minute")
    client = app.test_client()
    assert client.get("/t/7K3QM-XD9FP").status_code == 404
    response = client.get("/t/7K3QM-XD9FP")
    assert response.status_code == 429
    assert "Quá nhiều yêu cầu" in main_of(response) and links_in(main_of(response)) == ["/?lang=vi"]
    no_status_code(response)


def test_an_officials_error_page_has_no_bare_code_and_leads_to_the_overview(demo_app):
    from survey_app.services.data.demo import DEMO_PASSWORD

    client = demo_app.test_client()
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"csrf_token": token, "username": "demo-viewer",
                                       "password": DEMO_PASSWORD}).status_code == 303
    response = client.get("/admin/units/999999")
    assert response.status_code == 404
    assert links_in(main_of(response))[-2:] == ["/admin/", "/?lang=vi"]
    no_status_code(response)


def test_json_errors_keep_their_shape(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code in (401, 404)
    assert set(response.get_json()["error"]) == {"status", "title", "message"}


def test_an_interval_on_the_public_page_wraps_only_between_its_halves():
    from survey_app.public_results.routes import keep_with_number

    assert keep_with_number("khoảng 33,0% đến 49,4%") == "khoảng\u00a033,0% đến\u00a049,4%"
    assert keep_with_number("41% (khoảng 30% đến 50%)") == "41%\u00a0(khoảng\u00a030% đến\u00a050%)"
    assert keep_with_number("between 3.10 and 4.25") == "between\u00a03.10 and\u00a04.25"
