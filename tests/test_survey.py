"""A citizen opens /s/<code>, answers and submits: every behaviour and bad-input case."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from helpers import full_answers, hidden_fields
from survey_app.extensions import db
from survey_app.models import Answer, Campaign, Response, Unit
from survey_app.services.collect.instruments import latest_version

SIPAS = "/s/p2motcua"
HEALTH = "/s/p2yte"
SCHOOL = "/s/p2tieuhoc"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def open_form(client, url: str) -> tuple[str, dict[str, str]]:
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, hidden_fields(html)


def definition_for(code: str):
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    campaign = db.session.scalar(select(Campaign).where(Campaign.units.contains(unit)))
    return campaign.instrument_version.snapshot


def submit(client, url, answers, fields=None, **overrides):
    if fields is None:
        _, fields = open_form(client, url)
    data = {**fields, **answers, **overrides}
    return client.post(url, data=data)


# ------------------------------------------------------------------ reading the survey

def test_survey_is_vietnamese_by_default_with_an_english_switch(client):
    html, fields = open_form(client, SIPAS)
    assert '<html lang="vi">' in html
    assert "Tiếp cận dịch vụ hành chính công" in html
    assert "Gửi câu trả lời" in html
    # the switch is a button of the form: it posts the answers given so far (tests/qr/test_language_switch.py)
    assert 'formaction="/s/p2motcua?lang=en" name="_lang" value="en" lang="en">English</button>' in html
    assert {"csrf_token", "form_token"} <= set(fields)
    assert 'action="/s/p2motcua?lang=vi"' in html


def test_english_via_query_and_it_sticks(client):
    html = client.get(SIPAS + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Send my answers" in html
    assert "Very satisfied" in html
    assert 'formaction="/s/p2motcua?lang=vi" name="_lang" value="vi" lang="vi">Tiếng Việt</button>' in html
    # the choice is remembered for the next page of the visit
    assert '<html lang="en">' in client.get(HEALTH).get_data(as_text=True)


def test_survey_uses_semantic_accessible_markup(client):
    html, _ = open_form(client, SIPAS)
    definition = definition_for("p2motcua")
    # one fieldset per question, and one for the optional "where do you live" of a one-stop point
    assert html.count("<fieldset") == len(definition["questions"]) + 1 and 'id="q-residence"' in html
    assert html.count("<legend>") == len(definition["questions"]) + 1
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    # every radio sits inside its label, so the whole label is the tap target
    assert len(re.findall(r'<label><input type="radio"', html)) == 19 * 5
    # one script, the progress bar's, from this site and deferred (the page works without it)
    assert re.findall(r"<script[^>]*>", html) == [re.search(r'<script src="/static/progress\.js\?v=[0-9a-f]{16}" defer>', html)[0]]
    assert not re.search(r'(src|href)="https?://', html), "no third-party requests"


def test_sipas_page_and_css_stay_under_30_kb(client):
    page = client.get(SIPAS)
    css_links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.get_data(as_text=True))
    assert len(css_links) == 1
    with client.get(css_links[0]) as css:
        assert css.status_code == 200
        css_size = len(css.data)
    total = len(page.data) + css_size
    assert total < 30 * 1024, f"survey page + CSS is {total} bytes"


# ------------------------------------------------------------------ answering

def test_a_valid_submission_is_stored_once_and_thanked(client):
    definition = definition_for("p2motcua")
    answers = full_answers(definition)
    response = submit(client, SIPAS, answers)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/s/p2motcua/thanks")
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    assert "Xin cảm ơn!" in thanks.get_data(as_text=True)
    stored = db.session.scalars(select(Response)).one()
    assert (stored.channel, stored.language, stored.trust) == ("qr", "vi", "ok")
    assert stored.submitted_at.tzinfo is not None
    assert abs(stored.submitted_at - datetime.now(timezone.utc)) < timedelta(minutes=1)
    rows = db.session.execute(select(Answer.question_key, Answer.value_int, Answer.value_text)
                              .where(Answer.response_id == stored.id)).all()
    by_key = {k: (vi, vt) for k, vi, vt in rows}
    assert by_key["tc1"] == (5, None)
    assert by_key["comment"] == (None, "Nhân viên nhiệt tình")
    assert len(rows) == len(definition["questions"])


def test_every_question_type_round_trips(client):
    definition = definition_for("p2yte")
    answers = full_answers(definition)
    answers["q_expectation"] = "85"
    answers["q_return"] = "maybe_return"
    assert submit(client, HEALTH, answers).status_code == 303
    definition = definition_for("p2tieuhoc")
    answers = full_answers(definition)
    answers["q_attended_meeting"] = "0"
    assert submit(client, SCHOOL, answers).status_code == 303
    values = dict(db.session.execute(select(Answer.question_key, func.coalesce(Answer.value_text, func.cast(Answer.value_int, db.String)))
                                     .where(Answer.question_key.in_(["expectation", "return", "attended_meeting"]))).all())
    assert values == {"expectation": "85", "return": "maybe_return", "attended_meeting": "0"}


def test_optional_questions_may_be_left_empty(client):
    definition = definition_for("p2motcua")
    answers = full_answers(definition)
    answers["q_comment"] = "   "
    assert submit(client, SIPAS, answers).status_code == 303
    assert db.session.scalar(select(func.count()).where(Answer.question_key == "comment")) == 0


def test_text_is_nfc_normalised_and_trimmed(client):
    answers = full_answers(definition_for("p2motcua"))
    answers["q_comment"] = "  " + unicodedata.normalize("NFD", "Cán bộ tận tình, chu đáo") + "\n "
    assert submit(client, SIPAS, answers).status_code == 303
    text = db.session.scalar(select(Answer.value_text).where(Answer.question_key == "comment"))
    assert text == "Cán bộ tận tình, chu đáo"
    assert unicodedata.is_normalized("NFC", text)


# ------------------------------------------------------------------ bad input: nothing stored, answers kept

def _assert_rejected(response, key: str, message: str):
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    block = re.search(rf'<fieldset id="q-{key}"[^>]*>(.*?)</fieldset>', html, re.S)
    assert block, f"no fieldset for {key}"
    assert 'class="bad"' in block.group(0)
    assert message in block.group(1)
    assert count(Response) == 0 and count(Answer) == 0
    return html


def test_missing_required_answer(client):
    answers = full_answers(definition_for("p2motcua"))
    del answers["q_tt2"]
    answers["q_comment"] = "Giữ lại ý kiến này"
    html = _assert_rejected(submit(client, SIPAS, answers), "tt2", "Vui lòng trả lời câu hỏi này.")
    # everything the citizen gave is still there
    assert re.search(r'name="q_tc1" value="5" checked', html)
    assert "Giữ lại ý kiến này</textarea>" in html
    assert "Có 1 câu trả lời cần kiểm tra lại." in html


@pytest.mark.parametrize("value", ["6", "0", "-1", "abc", "4.5", "", "99999999"])
def test_out_of_range_level(client, value):
    answers = full_answers(definition_for("p2motcua"))
    answers["q_cc3"] = value
    message = "Vui lòng chọn một trong các câu trả lời có sẵn." if value else "Vui lòng trả lời câu hỏi này."
    _assert_rejected(submit(client, SIPAS, answers), "cc3", message)


@pytest.mark.parametrize("value", ["101", "-5", "50%", "1e2"])
def test_out_of_range_percent(client, value):
    answers = full_answers(definition_for("p2yte"))
    answers["q_expectation"] = value
    _assert_rejected(submit(client, HEALTH, answers), "expectation", "Vui lòng nhập một số nguyên từ 0 đến 100.")


def test_forged_option_is_refused(client):
    answers = full_answers(definition_for("p2yte"))
    answers["q_return"] = "bribe"
    _assert_rejected(submit(client, HEALTH, answers), "return", "Vui lòng chọn một trong các câu trả lời có sẵn.")


def test_two_values_for_a_single_answer_question(client):
    answers = full_answers(definition_for("p2motcua"))
    answers["q_tc1"] = ["5", "4"]
    _assert_rejected(submit(client, SIPAS, answers), "tc1", "Vui lòng chỉ chọn một câu trả lời.")


def test_too_long_text(client):
    definition = definition_for("p2motcua")
    limit = next(q["max_length"] for q in definition["questions"] if q["key"] == "comment")
    answers = full_answers(definition)
    answers["q_comment"] = "ý" * (limit + 1)
    html = _assert_rejected(submit(client, SIPAS, answers), "comment",
                            f"Vui lòng rút gọn câu trả lời xuống {limit} ký tự (hiện có {limit + 1} ký tự).")
    assert "ý" * (limit + 1) + "</textarea>" in html


def test_forged_field_is_refused(client):
    answers = full_answers(definition_for("p2motcua"))
    answers["q_salary"] = "5"
    response = submit(client, SIPAS, answers)
    assert response.status_code == 422
    assert "Biểu mẫu có trường không thuộc khảo sát này." in response.get_data(as_text=True)
    assert count(Response) == 0


@pytest.mark.parametrize("token", ["", "garbage", "eyJjIjoxfQ.forged.sig"])
def test_missing_or_forged_form_token(client, token):
    answers = full_answers(definition_for("p2motcua"))
    response = submit(client, SIPAS, answers, form_token=token)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Biểu mẫu này đã cũ." in html
    assert re.search(r'name="q_tc1" value="5" checked', html)
    assert count(Response) == 0


def test_form_token_of_another_survey_is_refused(client):
    _, other_fields = open_form(client, HEALTH)
    answers = full_answers(definition_for("p2motcua"))
    response = submit(client, SIPAS, answers, form_token=other_fields["form_token"])
    assert response.status_code == 422
    assert count(Response) == 0


def test_missing_csrf_keeps_the_answers(client):
    answers = full_answers(definition_for("p2motcua"))
    response = submit(client, SIPAS, answers, csrf_token="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Phiên làm việc đã hết hạn" in html
    assert re.search(r'name="q_gy3" value="5" checked', html)
    assert count(Response) == 0


def test_english_error_messages(client):
    client.get(SIPAS + "?lang=en")
    answers = full_answers(definition_for("p2motcua"))
    del answers["q_tc1"]
    response = submit(client, SIPAS, answers)
    assert response.status_code == 422
    assert "Please answer this question." in response.get_data(as_text=True)


def test_oversized_body_gets_413(client):
    answers = full_answers(definition_for("p2motcua"))
    answers["q_comment"] = "x" * (300 * 1024)
    response = submit(client, SIPAS, answers)
    assert response.status_code == 413
    assert "Nội dung gửi lên quá lớn" in response.get_data(as_text=True)
    assert count(Response) == 0


# ------------------------------------------------------------------ once, not twice

def test_double_submit_stores_one_response(client):
    answers = full_answers(definition_for("p2motcua"))
    _, fields = open_form(client, SIPAS)
    first = submit(client, SIPAS, answers, fields=fields)
    second = submit(client, SIPAS, answers, fields=fields)  # double tap / back-and-resubmit / retry
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert count(Response) == 1
    assert count(Answer) == len(definition_for("p2motcua")["questions"])


def test_two_separate_visits_store_two_responses(client):
    answers = full_answers(definition_for("p2motcua"))
    submit(client, SIPAS, answers)
    submit(client, SIPAS, answers)
    assert count(Response) == 2


# ------------------------------------------------------------------ unavailable surveys

def _campaign(code: str) -> Campaign:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    return db.session.scalar(select(Campaign).where(Campaign.units.contains(unit)))


def test_unknown_code_is_404_in_the_visitors_language(client):
    response = client.get("/s/khongco")
    assert response.status_code == 404
    assert "Không tìm thấy khảo sát" in response.get_data(as_text=True)
    response = client.get("/s/khongco?lang=en")
    assert response.status_code == 404
    assert "Survey not found" in response.get_data(as_text=True)
    assert client.get("/s/" + "x" * 300).status_code == 404


def test_closed_campaign_is_410_and_refuses_answers(client):
    answers = full_answers(definition_for("p2motcua"))
    _, fields = open_form(client, SIPAS)
    campaign = _campaign("p2motcua")
    campaign.status = "closed"
    db.session.commit()
    response = client.get(SIPAS)
    assert response.status_code == 410
    assert "Đợt khảo sát này đã kết thúc." in response.get_data(as_text=True)
    assert submit(client, SIPAS, answers, fields=fields).status_code == 410
    assert count(Response) == 0


def test_ended_window_is_410(client):
    campaign = _campaign("p2motcua")
    campaign.ends_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    db.session.commit()
    assert client.get(SIPAS).status_code == 410


def test_not_yet_open_campaign_is_404_with_the_opening_time(client):
    campaign = _campaign("p2motcua")
    campaign.starts_at = datetime(2030, 3, 1, 1, 30, tzinfo=timezone.utc)
    db.session.commit()
    response = client.get(SIPAS)
    assert response.status_code == 404
    # shown in Asia/Ho_Chi_Minh (UTC+7)
    assert "Khảo sát mở từ 01/03/2030 08:30." in response.get_data(as_text=True)


def test_draft_campaign_is_not_public(client):
    campaign = _campaign("p2motcua")
    campaign.status = "draft"
    db.session.commit()
    assert client.get(SIPAS).status_code == 404


def test_deactivated_point_is_404(client):
    unit = db.session.scalar(select(Unit).where(Unit.code == "p2motcua"))
    unit.active = False
    db.session.commit()
    assert client.get(SIPAS).status_code == 404


def test_a_newer_open_campaign_wins(client, demo_app):
    unit = db.session.scalar(select(Unit).where(Unit.code == "p2motcua"))
    newer = Campaign(name="Đánh giá Một cửa", instrument_version=latest_version(db.session, "one-stop"),
                     access_mode="open", status="open", starts_at=datetime.now(timezone.utc) - timedelta(hours=1))
    newer.units.append(unit)
    db.session.add(newer)
    db.session.commit()
    html = client.get(SIPAS).get_data(as_text=True)
    assert "Tổng thời gian giải quyết so với thời hạn quy định" in html
    assert "Tiếp cận dịch vụ hành chính công" not in html


def test_a_campaign_without_a_start_date_counts_as_the_oldest_on_both_databases(client, demo_app):
    """PostgreSQL sorts NULLs first in a DESC order and SQLite last: the order names it."""
    unit = db.session.scalar(select(Unit).where(Unit.code == "p2motcua"))
    open_here = db.session.scalars(select(Campaign).where(
        Campaign.units.any(Unit.id == unit.id), Campaign.status == "open", Campaign.access_mode == "open")).all()
    assert len(open_here) == 1 and open_here[0].starts_at is not None
    sipas = open_here[0]
    undated = Campaign(name="Đánh giá Một cửa", instrument_version=latest_version(db.session, "one-stop"),
                       access_mode="open", status="open", starts_at=None)
    undated.units.append(unit)
    db.session.add(undated)
    db.session.commit()
    assert undated.id > sipas.id
    html = client.get(SIPAS).get_data(as_text=True)
    assert "Tiếp cận dịch vụ hành chính công" in html
    assert "Tổng thời gian giải quyết so với thời hạn quy định" not in html


def test_a_newer_quick_campaign_is_for_the_kiosks_and_the_poster_keeps_its_survey(client, demo_app):
    """Issue #15: the quick survey may be open beside the full one; a poster shows the full one."""
    unit = db.session.scalar(select(Unit).where(Unit.code == "p2motcua"))
    newer = Campaign(name="Góp ý nhanh", instrument_version=latest_version(db.session, "quick-feedback"),
                     access_mode="open", status="open", starts_at=datetime.now(timezone.utc) - timedelta(hours=1))
    newer.units.append(unit)
    db.session.add(newer)
    db.session.commit()
    html = client.get(SIPAS).get_data(as_text=True)
    assert "Tiếp cận dịch vụ hành chính công" in html and "Ông/Bà hài lòng thế nào với dịch vụ hôm nay?" not in html


# ------------------------------------------------------------------ service endpoints

def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_json_clients_get_the_json_error_shape(client):
    response = client.get("/s/khongco", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404
    assert response.get_json()["error"]["message"]


def test_wrong_method_is_405_not_500(client):
    assert client.put(SIPAS).status_code == 405


def test_security_headers(client):
    response = client.get(SIPAS)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    # a stylesheet or a script keeps nosniff, without the document policies (bytes on a phone)
    for name in ("site.css", "progress.js"):
        with client.get(f"/static/{name}") as static:
            assert static.status_code == 200 and static.headers["X-Content-Type-Options"] == "nosniff"
            assert "Content-Security-Policy" not in static.headers and "X-Frame-Options" not in static.headers


def test_language_travels_with_the_form_even_without_cookies(demo_app):
    client = demo_app.test_client(use_cookies=False)
    html = client.get(SIPAS + "?lang=en").get_data(as_text=True)
    assert 'action="/s/p2motcua?lang=en"' in html
    answers = full_answers(definition_for("p2motcua"))
    del answers["q_tc1"]
    response = client.post("/s/p2motcua?lang=en", data={**hidden_fields(html), **answers})
    # without a session cookie the CSRF check fails, but the page answers in English
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Please answer this question." in body and '<html lang="en">' in body


def test_loading_the_demo_again_keeps_everything(client, demo_app):
    from survey_app.services.collect import instruments
    from survey_app.services.data import demo

    submit(client, SIPAS, full_answers(definition_for("p2motcua")))
    units, campaigns = count(Unit), count(Campaign)
    instruments.load_directory(db.session, Path(demo_app.config["SURVEYS_DIR"]))
    demo.load_demo(db.session)
    assert (count(Unit), count(Campaign), count(Response)) == (units, campaigns, 1)


def test_language_switch_keeps_the_other_query_arguments(demo_app):
    client = demo_app.test_client()
    html = client.get("/s/khongco?publication=7&lang=vi").get_data(as_text=True)
    assert 'href="?publication=7&amp;lang=en"' in html
