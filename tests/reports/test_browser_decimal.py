"""A citizen answers the imported XLSForm's ``decimal`` question in headless Chromium with
the Vietnamese comma (``3,5``): with JavaScript the question that depends on it shows; without
JavaScript a bad answer comes back with its message and what was typed, and a good one is
stored. What is stored reads back as 3.5 in the CSV export and the report."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from browser import chromium_page, live_server
from helpers import get_ok as get
from survey_app.extensions import db
from survey_app.models import Answer, Response, utcnow
from test_decimal import open_distance_survey

pytestmark = pytest.mark.browser


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def query(window: dict) -> str:
    return urlencode(window)


def answer_the_rest(page) -> None:
    page.locator("#q-waited input[value='4']").check()
    page.locator("#q-staff input[value='5']").check()
    page.locator("#q-clean input[value='4']").check()
    page.locator("#q-queued input[value='0']").check()


def stored(campaign_id: int) -> list[tuple]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(
        select(Answer.question_key, Answer.value_int, Answer.value_text)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.campaign_id == campaign_id, Answer.question_key.in_(["distance_km", "transport"]))
        .order_by(Answer.id)).all()]


def test_a_comma_answer_shows_the_dependent_question_and_reads_back_in_the_export(demo_app, place, login):
    target = open_distance_survey()
    campaign_id = target.campaign.id
    with live_server(demo_app) as base, chromium_page(javascript=True) as page:
        page.goto(f"{base}/s/p2motcua")
        distance, transport = page.locator("#q-distance_km input"), page.locator("#q-transport")
        assert distance.get_attribute("inputmode") == "decimal"
        answer_the_rest(page)
        assert not transport.is_visible()
        distance.fill("3,5")
        assert transport.is_visible(), "3,5 km is 2.5 km or more: the question shows"
        distance.fill("2,4")
        assert not transport.is_visible()
        distance.fill("3,5")
        page.locator("#q-transport input").fill("Xe máy")
        page.get_by_role("button", name="Gửi câu trả lời").click()
        assert page.locator("h1").inner_text() == "Xin cảm ơn!"
    assert stored(campaign_id) == [("distance_km", 35, None), ("transport", None, "Xe máy")]

    today = utcnow().date()
    window = {"instrument": "queue-local", "window": "custom", "from": (today - timedelta(days=1)).isoformat(),
              "to": (today + timedelta(days=1)).isoformat()}
    client = login("demo-manager")
    rows = csv_rows(get(client, f"/reports/{place.p2.id}/export.csv?{query(window)}").data)
    assert [(r["distance_km"], r["transport"]) for r in rows] == [("3.5", "Xe máy")]
    report = get(client, f"/api/v1/reports/{place.p2.path.strip('/')}?{query(window)}").get_json()
    entry = next(q for q in report["questions"] if q["key"] == "distance_km")
    assert (entry["n"], entry["mean"], entry["counts"]) == (1, 3.5, {"3.5": 1})


def test_without_javascript_a_bad_number_comes_back_with_its_message(demo_app):
    target = open_distance_survey()
    campaign_id = target.campaign.id
    with live_server(demo_app) as base, chromium_page() as page:
        page.goto(f"{base}/s/p2motcua")
        answer_the_rest(page)
        distance = page.locator("#q-distance_km input")
        for typed, message in (
            ("3,55", "Vui lòng nhập tối đa 1 chữ số sau dấu phẩy thập phân (một số từ 0 đến 100,5)."),
            ("ba cây số", "Vui lòng viết số bằng chữ số, dùng dấu phẩy hoặc dấu chấm trước phần thập phân, "
                          "ví dụ 50,2."),
            ("150", "Vui lòng nhập một số từ 0 đến 100,5."),
        ):
            distance.fill(typed)
            page.get_by_role("button", name="Gửi câu trả lời").click()
            assert page.locator("#e-distance_km").inner_text() == message
            assert distance.input_value() == typed, "what was typed is still there"
            assert page.locator("#q-waited input[value='4']").is_checked(), "the other answers are kept"
        assert stored(campaign_id) == []
        distance.fill("3,5")
        page.get_by_role("button", name="Gửi câu trả lời").click()
        assert page.locator("h1").inner_text() == "Xin cảm ơn!"
    assert stored(campaign_id) == [("distance_km", 35, None)]
