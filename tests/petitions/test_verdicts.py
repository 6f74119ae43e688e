"""The public's verdict on a published answer (issue #18 item 2): "hài lòng / không hài
lòng" at ``/a/<id>``, once per device (the survey's keyed daily device hash with its device
cookie), honeypot and too-fast marks kept but flagged and left out of the counts, the survey's
rate limits; bad input is a Vietnamese message and a 4xx (both databases)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpers import fresh, hidden_fields
from survey_app.extensions import db
from survey_app.models import Petition, PetitionVerdict
from survey_app.ratelimit import DEVICE_COOKIE
from survey_app.services.petitions import operations as service
from survey_app.services.petitions import verdicts


@pytest.fixture
def published(place, file, staff):
    """``published()``: a petition of ward p2 whose answer is public."""
    manager, scope = staff

    def make(answer: str = "Đã thay bóng đèn mới.") -> Petition:
        petition = file(place.p2_point)
        service.save_answer(db.session, scope, fresh(petition), answer, actor=manager)
        service.send_answer(db.session, scope, fresh(petition), actor=manager)
        service.make_public(db.session, scope, fresh(petition), actor=manager)
        return fresh(petition)
    return make


def page_fields(client, petition_id: int) -> dict[str, str]:
    with client.get(f"/a/{petition_id}") as page:
        assert page.status_code == 200
        return hidden_fields(page.get_data(as_text=True))


def mark(client, petition_id: int, verdict: str | None, **extra):
    fields = {**page_fields(client, petition_id), **extra}
    if verdict is not None:
        fields["verdict"] = verdict
    return client.post(f"/a/{petition_id}/verdict", data=fields)


def stored(petition_id: int) -> list[PetitionVerdict]:
    db.session.expire_all()
    return list(db.session.scalars(select(PetitionVerdict).where(PetitionVerdict.petition_id == petition_id)
                                   .order_by(PetitionVerdict.id)))


def test_one_mark_per_device_and_nothing_raw_stored(demo_app, client, published):
    petition = published()
    with client.get(f"/a/{petition.id}") as page:
        html = page.get_data(as_text=True)
    assert "Ông/Bà có hài lòng với câu trả lời này không?" in html
    cookie = client.get_cookie(DEVICE_COOKIE)
    assert cookie is not None                                  # the survey's device cookie is given here
    with mark(client, petition.id, "satisfied") as done:
        assert done.status_code == 303 and done.headers["Location"].endswith("#verdict")
    rows = stored(petition.id)
    assert [(r.verdict, r.trust, r.trust_reason) for r in rows] == [("satisfied", "ok", None)]
    row = rows[0]
    assert re.fullmatch(r"[0-9a-f]{32}", row.device_hash) and re.fullmatch(r"[0-9a-f]{32}", row.address_hash)
    for value in (row.device_hash, row.address_hash, row.submission_key):
        assert "127.0.0.1" not in value and cookie.value not in value
    with client.get(f"/a/{petition.id}?done=verdict") as page:
        assert "ý kiến của Ông/Bà đã được ghi nhận" in page.get_data(as_text=True)
    # The same device again, even with the other answer: refused, nothing stored twice.
    with mark(client, petition.id, "dissatisfied") as again:
        html = again.get_data(as_text=True)
        assert again.status_code == 409 and "đã được ghi nhận từ thiết bị này" in html
    assert len(stored(petition.id)) == 1
    # Another device (its own cookie) may mark it.
    other = demo_app.test_client()
    with mark(other, petition.id, "dissatisfied") as done:
        assert done.status_code == 303
    assert sorted(r.verdict for r in stored(petition.id)) == ["dissatisfied", "satisfied"]
    assert verdicts.counts(db.session, [petition.id]) == {petition.id: verdicts.VerdictCounts(1, 1)}


def test_a_double_tap_stores_one_row(client, published):
    petition = published()
    fields = {**page_fields(client, petition.id), "verdict": "satisfied"}
    for _ in range(2):
        with client.post(f"/a/{petition.id}/verdict", data=fields) as done:
            assert done.status_code == 303
    assert len(stored(petition.id)) == 1


def test_the_unique_constraint_holds_in_the_database(published):
    petition = published()
    for key in ("a" * 32, "b" * 32):
        db.session.add(PetitionVerdict(petition_id=petition.id, verdict="satisfied", device_hash="d" * 32,
                                       submission_key=key))
        if key == "a" * 32:
            db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_bad_input_is_a_clear_message_and_a_4xx(client, place, file, published, h):
    petition = published()
    with mark(client, petition.id, "maybe") as bad:
        assert bad.status_code == 422 and "Xin chọn" in bad.get_data(as_text=True)
    with mark(client, petition.id, None) as missing:
        assert missing.status_code == 422
    with mark(client, petition.id, "satisfied", form_token="forged") as forged:
        assert forged.status_code == 422 and "Trang này đã cũ" in forged.get_data(as_text=True)
    csrf = page_fields(client, petition.id)["csrf_token"]
    with client.post(f"/a/{petition.id}/verdict", data={"csrf_token": csrf, "verdict": "satisfied",
                                                         "form_token": "x" * 5000}) as long:
        assert long.status_code == 422
    with client.post(f"/a/{petition.id}/verdict", data={"verdict": "satisfied"}) as no_csrf:
        assert no_csrf.status_code == 400
    unpublished = file(place.p2_point)
    with client.get(f"/a/{unpublished.id}") as page:
        assert "hài lòng với câu trả lời" not in page.get_data(as_text=True)
    with client.post(f"/a/{unpublished.id}/verdict", data={"csrf_token": csrf, "verdict": "satisfied"}) as early:
        assert early.status_code == 409 and "chưa được công bố" in early.get_data(as_text=True)
    suspect = file(place.p2_point, trust="suspect", trust_reason="honeypot")
    for missing_id in (suspect.id, 999999):
        with client.post(f"/a/{missing_id}/verdict", data={"csrf_token": csrf, "verdict": "satisfied"}) as gone:
            assert gone.status_code == 404
    with client.post(f"/a/{2**40}/verdict", data={"csrf_token": csrf, "verdict": "satisfied"}) as huge:
        assert huge.status_code == 404
    assert stored(petition.id) == [] and stored(unpublished.id) == []


def test_suspect_marks_are_flagged_kept_and_not_counted(demo_app, client, published, variant):
    petition = published()
    with mark(client, petition.id, "dissatisfied", website="http://spam.example") as bot:
        assert bot.status_code == 303
    rows = stored(petition.id)
    assert [(r.trust, r.trust_reason) for r in rows] == [("suspect", "honeypot")]
    slow = variant(SURVEY_MIN_FILL_SECONDS=30)
    fast = slow.test_client()
    with mark(fast, petition.id, "dissatisfied") as quick:
        assert quick.status_code == 303
    assert [(r.trust, r.trust_reason) for r in stored(petition.id)] == [("suspect", "honeypot"),
                                                                        ("suspect", "too_fast")]
    honest = demo_app.test_client()
    with mark(honest, petition.id, "satisfied") as ok:
        assert ok.status_code == 303
    assert len(stored(petition.id)) == 3                                   # kept, not deleted
    assert verdicts.counts(db.session, [petition.id]) == {petition.id: verdicts.VerdictCounts(1, 0)}


def test_the_surveys_rate_limits_refuse_a_flood(published, variant):
    first, second = published(), published("Đã dọn rác.")
    app = variant(RATELIMIT_ENABLED=True, RATELIMIT_SURVEY_DEVICE="1 per 10 minutes")
    client = app.test_client()
    with mark(client, first.id, "satisfied") as done:
        assert done.status_code == 303
    with mark(client, second.id, "satisfied") as over:
        assert over.status_code == 429
    assert stored(second.id) == [] and len(stored(first.id)) == 1


def test_counts_are_suppressed_under_the_threshold():
    # Counted by hand: a cell under 10 is withheld, and then so is the other cell (the total
    # would give it away); zeros are shown; a total under 10 is withheld too.
    cases = {(12, 15): (12, 15, 27), (3, 12): (None, None, 15), (0, 12): (0, 12, 12), (0, 0): (0, 0, 0),
             (2, 3): (None, None, None), (10, 10): (10, 10, 20)}
    for (s, d), want in cases.items():
        shown = verdicts.suppressed_counts(verdicts.VerdictCounts(s, d))
        assert (shown.satisfied, shown.dissatisfied, shown.total) == want, (s, d)


def test_the_units_public_page_lists_published_answers_with_counts_withheld_when_small(client, place, file,
                                                                                       published):
    many, few = published(), published("Đã dọn rác.")
    unpublished = file(place.p2_point)
    for i in range(12):                                      # 12 satisfied, 10 not: both shown
        db.session.add(PetitionVerdict(petition_id=many.id, verdict="satisfied", device_hash=f"s{i}"))
    for i in range(10):
        db.session.add(PetitionVerdict(petition_id=many.id, verdict="dissatisfied", device_hash=f"d{i}"))
    for i in range(5):                                       # suspect marks: not counted
        db.session.add(PetitionVerdict(petition_id=many.id, verdict="dissatisfied", device_hash=f"x{i}",
                                       trust="suspect", trust_reason="honeypot"))
    db.session.add(PetitionVerdict(petition_id=few.id, verdict="satisfied", device_hash="one"))  # 1: withheld
    db.session.commit()
    for ref in ("vn/qt/p2", "p2motcua"):
        with client.get(f"/p/{ref}") as page:
            html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Các câu trả lời phản ánh, kiến nghị đã công bố" in html
        assert f'href="/a/{many.id}' in html and f'href="/a/{few.id}' in html and f"/a/{unpublished.id}" not in html
        row = html.split(f'href="/a/{many.id}')[1].split("</tr>")[0]
        assert '<td class="count">12</td><td class="count">10</td>' in row
        small = html.split(f'href="/a/{few.id}')[1].split("</tr>")[0]
        # 1 and 0: the 1 is withheld; the 0 is shown (zeros say nothing about a person) and the
        # total, which would give the 1 away, is not on the page.
        assert small.count("không hiển thị") == 1 and '<td class="count">1</td>' not in small
        assert small.endswith('<td class="count">0</td>')
    with client.get("/p/vn/qt/p1") as page:                  # the other ward: none of these
        html = page.get_data(as_text=True)
        assert f"/a/{many.id}" not in html and "Chưa có câu trả lời phản ánh" in html
