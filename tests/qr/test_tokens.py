"""One-time codes: format, storage, the /v flow, every refusal, and the issuing command."""
from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from helpers import hidden_fields
from survey_app.extensions import db
from survey_app.models import Response, VisitToken
from survey_app.services.collect import surveys
from survey_app.services.qr import tokens

BASE = "https://hailong.example.gov.vn"
CODE_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def token_row(code: str) -> VisitToken:
    db.session.expire_all()
    return db.session.scalar(select(VisitToken).where(VisitToken.code_hash == tokens.code_hash(tokens.normalize_code(code))))


def open_form(client, url: str) -> tuple[str, dict[str, str]]:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    return html, hidden_fields(html)


# ------------------------------------------------------------------ the codes themselves

def test_codes_are_80_random_bits_grouped_and_stored_only_as_digests(token_campaign, issue):
    codes = issue(token_campaign(), n=300)
    assert len(set(codes)) == 300
    assert all(CODE_RE.match(c) for c in codes)
    assert 16 * 5 >= 80 and len(tokens.ALPHABET) == 32 and not set("ILOU") & set(tokens.ALPHABET)
    rows = db.session.execute(select(VisitToken.code_hash, VisitToken.campaign_id, VisitToken.unit_id)).all()
    assert len(rows) == 300
    stored = {h for h, *_ in rows}
    for code in codes[:20]:
        plain = code.replace("-", "")
        assert hashlib.sha256(b"hailong.visit-code\x00" + plain.encode()).hexdigest() in stored
        assert all(plain not in h and code not in h for h in stored)


@pytest.mark.parametrize("typed, canonical", [
    ("K7QM-3XDA-9F2P-HW8T", "K7QM3XDA9F2PHW8T"),
    ("k7qm 3xda 9f2p hw8t", "K7QM3XDA9F2PHW8T"),
    ("  k7qm3xda-9f2p.hw8t ", "K7QM3XDA9F2PHW8T"),
    ("K7QM-3XDA-9F2P-HW8T".replace("0", "O"), "K7QM3XDA9F2PHW8T"),
    ("10OO-IL11-2222-3333", "1000111122223333"),  # O→0, I/L→1 as Crockford reads them
])
def test_typing_is_forgiving(typed, canonical):
    assert tokens.normalize_code(typed) == canonical


@pytest.mark.parametrize("typed", ["", "K7QM-3XDA-9F2P", "K7QM-3XDA-9F2P-HW8TX", "K7QM-3XDA-9F2P-HW8U",
                                   "K7QM-3XDA-9F2P-HW8!", "Ạ7QM-3XDA-9F2P-HW8T", "K" * 70, None])
def test_what_cannot_be_a_code(typed):
    assert tokens.normalize_code(typed) is None


# ------------------------------------------------------------------ answering with a code

def test_a_code_opens_its_survey_once(client, token_campaign, issue, full_answers, unit_by_code):
    campaign = token_campaign()
    code, = issue(campaign)
    html, fields = open_form(client, f"/v/{code}")
    _, fields_again = open_form(client, f"/v/{code.lower().replace('-', ' ')}")  # typed by hand, another tab
    assert "Trường Tiểu học Phường 2" in html
    assert f'action="/v/{code}?lang=vi"' in html
    answers = full_answers(campaign.instrument_version.snapshot)

    sent = client.post(f"/v/{code}", data={**fields, **answers})
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/v/{code}/thanks?lang=vi"
    thanks = client.get(sent.headers["Location"])
    assert thanks.status_code == 200 and "Xin cảm ơn!" in thanks.get_data(as_text=True)

    stored = db.session.scalars(select(Response)).one()
    assert (stored.channel, stored.campaign_id, stored.unit_id, stored.trust) == ("link", campaign.id, unit_by_code("p2tieuhoc").id, "ok")
    spent = token_row(code).spent_at
    assert spent is not None and spent.time() == time(0, 0) and spent.tzinfo is not None  # only the day is kept

    # the second tab, and anyone who scans the slip again, gets a clear refusal; nothing more stored
    again = client.post(f"/v/{code}", data={**fields_again, **answers})
    assert again.status_code == 410
    assert "Mã này đã được sử dụng — cảm ơn Ông/Bà đã góp ý." in again.get_data(as_text=True)
    reopened = client.get(f"/v/{code}?lang=en")
    assert reopened.status_code == 410 and "Code already used" in reopened.get_data(as_text=True)
    assert count(Response) == 1


def test_a_double_tap_with_a_code_stores_one_and_thanks_twice(client, token_campaign, issue, full_answers):
    campaign = token_campaign()
    code, = issue(campaign)
    _, fields = open_form(client, f"/v/{code}")
    data = {**fields, **full_answers(campaign.instrument_version.snapshot)}
    first, second = client.post(f"/v/{code}", data=data), client.post(f"/v/{code}", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Response) == 1


def test_bad_answers_keep_the_code_unspent(client, token_campaign, issue, full_answers):
    campaign = token_campaign()
    code, = issue(campaign)
    _, fields = open_form(client, f"/v/{code}")
    definition = campaign.instrument_version.snapshot
    answers = full_answers(definition)
    answers.pop("q_" + next(q["key"] for q in definition["questions"] if q["required"]))
    response = client.post(f"/v/{code}", data={**fields, **answers})
    assert response.status_code == 422
    assert "Vui lòng trả lời câu hỏi này." in response.get_data(as_text=True)
    assert token_row(code).spent_at is None and count(Response) == 0


def _expire(campaign, code):
    token_row(code).expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)


def _close(campaign, code):
    campaign.status = "closed"


def _end(campaign, code):
    campaign.ends_at = datetime.now(timezone.utc) - timedelta(seconds=1)


def _pause(campaign, code):
    campaign.status = "paused"


def _postpone(campaign, code):
    campaign.starts_at = datetime(2031, 3, 1, 1, 30, tzinfo=timezone.utc)


def _leave_unit(campaign, code):
    campaign.units.clear()


def _make_open(campaign, code):
    campaign.access_mode = "open"


def _deactivate(campaign, code):
    campaign.units[0].active = False


REFUSALS = [
    (_expire, 410, "Mã này đã hết hạn nên không thể sử dụng được nữa."),
    (_close, 410, "Đợt khảo sát này đã kết thúc."),
    (_end, 410, "Đợt khảo sát này đã kết thúc."),
    (_pause, 410, "Đợt khảo sát này đã kết thúc."),
    (_postpone, 404, "Khảo sát mở từ 01/03/2031 08:30."),
    (_leave_unit, 404, "Mã này không thuộc đợt khảo sát nào đang mở tại nơi này."),
    (_make_open, 404, "Mã này không thuộc đợt khảo sát nào đang mở tại nơi này."),
    (_deactivate, 404, "Mã này không thuộc đợt khảo sát nào đang mở tại nơi này."),
]


def test_refusals_after_the_form_was_opened(client, token_campaign, issue, full_answers, unit_by_code):
    for change, status, message in REFUSALS:
        unit_by_code("p2tieuhoc").active = True
        campaign = token_campaign()
        code, = issue(campaign)
        _, fields = open_form(client, f"/v/{code}")
        change(campaign, code)
        db.session.commit()
        answers = full_answers(campaign.instrument_version.snapshot)
        for response in (client.post(f"/v/{code}", data={**fields, **answers}), client.get(f"/v/{code}")):
            assert response.status_code == status, change.__name__
            assert message in response.get_data(as_text=True), change.__name__
        assert token_row(code).spent_at is None, change.__name__
    assert count(Response) == 0


def test_unknown_or_malformed_codes_are_404_and_store_nothing(client, token_campaign, issue, full_answers):
    campaign = token_campaign()
    real, = issue(campaign)
    _, fields = open_form(client, f"/v/{real}")
    answers = full_answers(campaign.instrument_version.snapshot)
    for code in ["K7QM-3XDA-9F2P-HW8T", "not-a-code", "x" * 300, "ĐƯỜNG"]:
        for response in (client.get(f"/v/{code}"), client.post(f"/v/{code}", data={**fields, **answers})):
            assert response.status_code == 404, code
            assert "Không tìm thấy mã này." in response.get_data(as_text=True), code
        assert client.get(f"/v/{code}/thanks").status_code == 404
    assert count(Response) == 0 and token_row(real).spent_at is None


def test_unknown_code_in_english_and_as_json(client):
    response = client.get("/v/K7QM-3XDA-9F2P-HW8T?lang=en")
    assert response.status_code == 404 and "Code not found" in response.get_data(as_text=True)
    response = client.get("/v/K7QM-3XDA-9F2P-HW8T", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404


def test_a_form_of_another_campaign_cannot_spend_a_code(client, token_campaign, issue, full_answers):
    school = token_campaign("p2tieuhoc")
    counter = token_campaign("p2motcua", mode="visit_token")
    school_code, = issue(school, "p2tieuhoc")
    counter_code, = issue(counter, "p2motcua")
    _, school_fields = open_form(client, f"/v/{school_code}")
    answers = full_answers(counter.instrument_version.snapshot)
    response = client.post(f"/v/{counter_code}", data={**school_fields, **answers})
    assert response.status_code == 422
    assert "Biểu mẫu này đã cũ." in response.get_data(as_text=True)
    assert count(Response) == 0
    assert token_row(counter_code).spent_at is None and token_row(school_code).spent_at is None


def test_the_database_refuses_a_spent_or_expired_code_even_without_the_route(demo_app, token_campaign, issue,
                                                                             full_answers):
    campaign = token_campaign()
    spent, expiring = issue(campaign, n=2)
    target = tokens.resolve_token(db.session, spent)
    answers = surveys.validate_answers(target.target.definition,
                                       _multidict(full_answers(campaign.instrument_version.snapshot))).answers
    first = surveys.submit_response(db.session, target.target, answers, channel="link", language="vi",
                                    idempotency_key="a" * 32, spend_token_id=target.token_id)
    assert first.created
    with pytest.raises(surveys.TokenAlreadySpent):
        surveys.submit_response(db.session, target.target, answers, channel="link", language="vi",
                                idempotency_key="b" * 32, spend_token_id=target.token_id)
    late = tokens.resolve_token(db.session, expiring)
    token_row(expiring).expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(surveys.TokenAlreadySpent):
        surveys.submit_response(db.session, late.target, answers, channel="link", language="vi",
                                idempotency_key="c" * 32, spend_token_id=late.token_id)
    assert tokens.token_state(db.session, late.token_id) == "expired"
    assert count(Response) == 1


def _multidict(data):
    from werkzeug.datastructures import MultiDict

    return MultiDict(data)


# ------------------------------------------------------------------ typing a code at /v

def test_typing_a_code_by_hand(client, token_campaign, issue):
    code, = issue(token_campaign())
    page = client.get("/v")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="code"' in html and "Nhập mã đánh giá" in html
    typed = code.lower().replace("-", " ")
    response = client.post("/v", data={**hidden_fields(html), "code": typed})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/v/{code}?lang=vi"


@pytest.mark.parametrize("typed, status, message", [
    ("12345", 422, "Mã gồm 16 chữ cái và chữ số"),
    ("", 422, "Mã gồm 16 chữ cái và chữ số"),
    ("K7QM-3XDA-9F2P-HW8T", 404, "Không tìm thấy mã này."),
])
def test_typing_a_wrong_code_explains_and_keeps_it(client, typed, status, message):
    html = client.get("/v").get_data(as_text=True)
    response = client.post("/v", data={**hidden_fields(html), "code": typed})
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert message in body
    assert f'value="{typed}"' in body


def test_typing_a_spent_code(client, token_campaign, issue, full_answers):
    campaign = token_campaign()
    code, = issue(campaign)
    _, fields = open_form(client, f"/v/{code}")
    assert client.post(f"/v/{code}", data={**fields, **full_answers(campaign.instrument_version.snapshot)}).status_code == 303
    html = client.get("/v?lang=en").get_data(as_text=True)
    response = client.post("/v?lang=en", data={**hidden_fields(html), "code": code})
    assert response.status_code == 410
    assert "This code has already been used — thank you for your answers." in response.get_data(as_text=True)


def test_typing_without_csrf_is_refused(client):
    response = client.post("/v", data={"code": "K7QM-3XDA-9F2P-HW8T"})
    assert response.status_code == 400


# ------------------------------------------------------------------ issuing: service refusals

def test_issuing_refusals(demo_app, token_campaign, open_campaign, unit_by_code):
    cases = [
        ("open", 5, "takes no one-time codes"),
        ("closed", 5, "is closed"),
        ("ended", 5, "is ended"),
        ("token", 0, "between 1 and 5000, not 0"),
        ("token", 5001, "between 1 and 5000, not 5001"),
        ("other_unit", 5, "p2motcua is not one of the units of campaign"),
        ("past_expiry", 5, "the expiry must be in the future"),
    ]
    for setup, n, message in cases:
        campaign = open_campaign("p2tieuhoc") if setup == "open" else token_campaign()
        unit = unit_by_code("p2motcua" if setup == "other_unit" else "p2tieuhoc")
        if setup == "closed":
            campaign.status = "closed"
        if setup == "ended":
            campaign.ends_at = datetime.now(timezone.utc) - timedelta(hours=1)
        expires = datetime.now(timezone.utc) - timedelta(days=1) if setup == "past_expiry" else None
        with pytest.raises(tokens.TokenIssueError, match=re.escape(message)):
            tokens.issue_tokens(db.session, campaign, unit, n, expires_at=expires)
        db.session.rollback()
    assert count(VisitToken) == 0


# ------------------------------------------------------------------ issuing: the command

def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["tokens", "issue", *args])


def test_cli_prints_slips_that_scan_and_read_in_vietnamese(demo_app, client, token_campaign, tmp_path, pdf_tools,
                                                           decode_qr):
    campaign = token_campaign()
    out = tmp_path / "slips.pdf"
    result = _cli(demo_app, "--campaign", str(campaign.id), "--unit", "p2tieuhoc", "-n", "12", "--out", str(out),
                  "--expires", "2030-12-31", "--base-url", BASE)
    assert result.exit_code == 0, result.output
    assert "12 code(s) for campaign" in result.output and "valid through 31/12/2030" in result.output
    pdf = out.read_bytes()
    assert pdf_tools.pages(pdf) == 2  # ten slips per A4 page
    text = pdf_tools.text(pdf)
    flat = " ".join(text.split())
    assert "Quét mã QR bằng điện thoại, hoặc vào hailong.example.gov.vn/v và nhập mã:" in flat
    assert "Mỗi mã chỉ dùng được một lần." in flat
    assert "Có hiệu lực đến hết ngày 31/12/2030." in flat
    printed = re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", text)
    assert len(printed) == 12 and len(set(printed)) == 12

    scanned = sorted(r.text for r in decode_qr(pdf_tools.image(pdf, 1, dpi=150)))
    assert len(scanned) == 10
    assert set(scanned) <= {f"{BASE}/v/{c}" for c in printed}
    rows = db.session.scalars(select(VisitToken)).all()
    assert len(rows) == 12
    # valid through 31/12 in Viet Nam: until 1/1/2031 00:00 +07:00
    assert {r.expires_at for r in rows} == {datetime(2030, 12, 31, 17, 0, tzinfo=timezone.utc)}
    assert client.get("/v/" + printed[0]).status_code == 200
    assert client.get(scanned[0].removeprefix(BASE)).status_code == 200


def test_cli_csv_for_a_one_stop_software(demo_app, client, token_campaign, tmp_path):
    campaign = token_campaign("p2motcua", mode="visit_token")
    out = tmp_path / "codes.csv"
    result = _cli(demo_app, "--campaign", str(campaign.id), "--unit", "p2motcua", "-n", "3", "--out", str(out),
                  "--format", "csv", "--base-url", BASE)
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    for row in rows:
        assert CODE_RE.match(row["code"]) and row["url"] == f"{BASE}/v/{row['code']}" and row["expires_at"] == ""
        assert client.get("/v/" + row["code"]).status_code == 200


def test_cli_csv_to_standard_output(demo_app, token_campaign):
    campaign = token_campaign()
    result = _cli(demo_app, "--campaign", str(campaign.id), "--unit", "/vn/qt/p2/th-p2/", "-n", "2",
                  "--out", "-", "--format", "csv", "--base-url", BASE)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["code", "url", "expires_at"] and len(rows) == 3
    assert count(VisitToken) == 2


def test_cli_refusals_write_nothing_and_store_nothing(demo_app, token_campaign, open_campaign, tmp_path):
    cases = [
        ("open", [], "takes no one-time codes"),
        ("token", ["-n", "0"], "-n must be between 1 and 5000, not 0"),
        ("token", ["-n", "5001"], "-n must be between 1 and 5000, not 5001"),
        ("token", ["--unit", "p2motcua"], "p2motcua is not one of the units of campaign"),
        ("token", ["--unit", "khongco"], "no unit with the code or path 'khongco'"),
        ("token", ["--campaign", "9999"], "there is no campaign 9999"),
        ("token", ["--expires", "2020-01-01"], "the expiry must be in the future"),
        ("token", ["--out", "-"], "a PDF needs a file"),
        ("token", ["--base-url", "not a url"], "is not a public base URL"),
        ("token", ["--no-base"], "pass --base-url https://… or set PUBLIC_BASE_URL"),
    ]
    token_based = token_campaign()
    out = tmp_path / "slips.pdf"
    for setup, args, message in cases:
        campaign = open_campaign("p2tieuhoc") if setup == "open" else token_based
        options = {"--campaign": str(campaign.id), "--unit": "p2tieuhoc", "-n": "5", "--out": str(out),
                   "--base-url": BASE}
        extra = list(args)
        if "--no-base" in extra:
            extra.remove("--no-base")
            del options["--base-url"]
        options.update(zip(extra[::2], extra[1::2]))
        result = _cli(demo_app, *[part for pair in options.items() for part in pair])
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert not out.exists()
        assert count(VisitToken) == 0


def test_cli_without_campaign_takes_the_units_one_code_campaign(demo_app, token_campaign):
    args = ["--unit", "p2tieuhoc", "-n", "3", "--out", "-", "--format", "csv", "--base-url", BASE]
    result = _cli(demo_app, *args)
    assert result.exit_code == 1
    assert ("p2tieuhoc has no one-time-code campaign that takes answers; create one with 'flask --app wsgi campaigns "
            "create --unit p2tieuhoc --instrument <key> --mode code --open'") in result.output
    token_campaign(status="closed")  # a closed one is not a candidate
    assert "has no one-time-code campaign" in _cli(demo_app, *args).output
    campaign = token_campaign()
    result = _cli(demo_app, *args)
    assert result.exit_code == 0, result.output
    assert f"3 code(s) for campaign {campaign.id} at p2tieuhoc" in result.stderr
    assert db.session.scalar(select(func.count(VisitToken.id)).where(VisitToken.campaign_id == campaign.id)) == 3
    other = token_campaign(mode="visit_token")
    result = _cli(demo_app, *args)
    assert result.exit_code == 1
    assert f"p2tieuhoc has several one-time-code campaigns ({campaign.id}, {other.id}): choose one with --campaign" \
        in result.output
