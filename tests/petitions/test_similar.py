"""Repeats and duplicates (issue #18, item 3): similar open petitions suggested before a
citizen's petition is stored (PostgreSQL pg_trgm, or the same trigram score in Python),
duplicates merged by a manager (the merged ones follow the survivor's answer and keep their
tracking codes), and repeats of answered petitions marked at filing. Both databases."""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from helpers import fresh, hidden_fields
from survey_app.extensions import db
from survey_app.models import Petition, PetitionEvent, PetitionNotice, utcnow
from survey_app.services.petitions import notify, similar
from survey_app.services.petitions import operations as service

LIGHT = "Đèn đường ở tổ 5 khu phố 2 bị hỏng đã hai tuần, buổi tối rất tối."
# The same matter, worded by someone else; and typed without diacritics.
LIGHT_AGAIN = "Đèn đường tổ 5 khu phố 2 hỏng hai tuần nay, tối om chưa ai sửa."
LIGHT_PLAIN = "den duong o to 5 khu pho 2 bi hong da hai tuan, buoi toi rat toi"
DRAIN = "Cống thoát nước đường Hùng Vương bị tắc, mưa xuống là ngập cả đoạn trước chợ."
DRAIN_AGAIN = "Mưa là ngập đoạn đường Hùng Vương trước chợ vì cống thoát nước bị tắc."
# Same topic (infrastructure), other matters.
POTHOLE = "Ổ gà lớn trên đường Lê Duẩn gây nguy hiểm cho xe máy, nhất là ban đêm."
PAVEMENT = "Xin sửa lại vỉa hè trước trường tiểu học Kim Đồng, gạch vỡ nhiều."

SIMILAR_PAIRS = [(LIGHT, LIGHT_AGAIN), (LIGHT, LIGHT_PLAIN), (DRAIN, DRAIN_AGAIN)]
DISSIMILAR_PAIRS = [(LIGHT, POTHOLE), (LIGHT, PAVEMENT), (DRAIN, PAVEMENT), (DRAIN, LIGHT), (POTHOLE, PAVEMENT)]


@pytest.fixture
def pg_trgm(demo_app):
    """On PostgreSQL, pg_trgm installed (in this test's schema unless it is already somewhere)."""
    if db.engine.dialect.name != "postgresql":
        return None
    if similar.trgm_schema(db.session) is None:
        available = db.session.scalar(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'"))
        if not available:
            pytest.skip("pg_trgm is not available on this PostgreSQL server")
        db.session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        db.session.commit()
    return similar.trgm_schema(db.session)


# ------------------------------------------------------------------ the score

def test_real_vietnamese_texts_on_the_same_matter_score_above_the_threshold_and_others_below():
    for a, b in SIMILAR_PAIRS:
        assert similar.similarity(a, b) >= similar.THRESHOLD, (a, b, similar.similarity(a, b))
    for a, b in DISSIMILAR_PAIRS:
        assert similar.similarity(a, b) < similar.THRESHOLD, (a, b, similar.similarity(a, b))
    # Folded: no diacritics, lower case, NFC (a keyboard sending NFD gives the same score).
    assert similar.fold("ĐÈN ĐƯỜNG Hỏng") == "den duong hong"
    assert similar.similarity(LIGHT, LIGHT_PLAIN) == 1.0
    assert similar.similarity(unicodedata.normalize("NFD", LIGHT), LIGHT) == 1.0
    assert similar.similarity(LIGHT, LIGHT.upper()) == 1.0
    assert similar.similarity("", LIGHT) == 0.0 and similar.similarity("!!!", "???") == 0.0
    # pg_trgm's trigrams: each word padded with two spaces before and one after.
    assert similar.trigrams("cat") == {"  c", " ca", "cat", "at "}
    assert round(similar.similarity("word", "two words"), 6) == round(4 / 11, 6)  # pg_trgm says 0.363636


def test_the_database_scores_as_python_does(demo_app, place, file, pg_trgm, monkeypatch):
    """Same ranking and the same scores on both databases; on PostgreSQL pg_trgm is really
    used (and without the extension the Python fallback gives the same answer there too)."""
    unit = place.p2_point
    filed = {text: file(unit, text=text) for text in (LIGHT, DRAIN, POTHOLE, PAVEMENT)}
    found = similar.find_similar(db.session, unit, "infrastructure", LIGHT_AGAIN)
    assert [p.id for p, _s in found] == [filed[LIGHT].id]
    assert abs(found[0][1] - similar.similarity(LIGHT, LIGHT_AGAIN)) < 1e-5
    found = similar.find_similar(db.session, unit, "infrastructure", DRAIN_AGAIN)
    assert [p.id for p, _s in found] == [filed[DRAIN].id]
    assert similar.find_similar(db.session, unit, "infrastructure", "Chó thả rông cắn người ở công viên.") == []
    # other topic, other unit: nothing
    assert similar.find_similar(db.session, unit, "health", LIGHT_AGAIN) == []
    assert similar.find_similar(db.session, place.p1_point, "infrastructure", LIGHT_AGAIN) == []
    if pg_trgm is not None:
        score = sa.Function("similarity", sa.literal(similar.fold(LIGHT)), sa.literal(similar.fold(LIGHT_AGAIN)),
                            packagenames=(pg_trgm,))
        assert abs(db.session.scalar(sa.select(score)) - similar.similarity(LIGHT, LIGHT_AGAIN)) < 1e-5
        for a, b in SIMILAR_PAIRS + DISSIMILAR_PAIRS:
            score = sa.Function("similarity", sa.literal(similar.fold(a)), sa.literal(similar.fold(b)),
                                packagenames=(pg_trgm,))
            assert abs(db.session.scalar(sa.select(score)) - similar.similarity(a, b)) < 1e-5, (a, b)
        # the SQL folding of the stored text is the Python one
        folded = db.session.scalar(sa.select(similar._folded_column()).where(Petition.id == filed[LIGHT].id))
        assert folded == similar.fold(LIGHT)
        in_db = similar.find_similar(db.session, unit, "infrastructure", LIGHT_PLAIN)
        monkeypatch.setattr(similar, "trgm_schema", lambda session: None)
        in_python = similar.find_similar(db.session, unit, "infrastructure", LIGHT_PLAIN)
        assert [(p.id, round(s, 5)) for p, s in in_db] == [(p.id, round(s, 5)) for p, s in in_python]
    else:
        assert similar.trgm_schema(db.session) is None


def test_suggestions_leave_out_suspect_merged_answered_and_show_text_only_when_public(place, file, staff):
    manager, scope = staff
    unit = place.p2_point
    private = file(unit, text=LIGHT)
    public = file(unit, text=LIGHT + " Xin cho người sửa.", publish_consent=True)
    service.set_text_public(db.session, scope, public, True, actor=manager)
    file(unit, text=LIGHT, trust="suspect", trust_reason="honeypot")
    answered = file(unit, text=LIGHT + " Rất mong sớm sửa.")
    service.save_answer(db.session, scope, answered, "Đã sửa.", actor=manager)
    service.send_answer(db.session, scope, fresh(answered), actor=manager)
    duplicate = file(unit, text=LIGHT + " Nhà số 12.")
    service.merge(db.session, scope, fresh(duplicate), fresh(private), actor=manager)
    shown = similar.suggestions(db.session, unit, "infrastructure", LIGHT_AGAIN)
    assert {s.id for s in shown} == {private.id, public.id}
    by_id = {s.id: s for s in shown}
    assert by_id[private.id].text is None and by_id[public.id].text == LIGHT + " Xin cho người sửa."
    assert not hasattr(by_id[private.id], "tracking_code")


# ------------------------------------------------------------------ the citizen's form

def test_a_citizen_is_shown_similar_open_petitions_before_anything_is_stored(client, send, place, file, h, staff):
    manager, scope = staff
    existing = file(place.p2_point, text=LIGHT, publish_consent=True)
    service.set_text_public(db.session, scope, existing, True, actor=manager)
    other = file(place.p2_point, text=DRAIN)
    code = service.format_tracking(existing.tracking_code)
    before = h.count(Petition)
    hidden = h.form_page(client, "p2motcua")
    response = send(client, "p2motcua", {"category": "infrastructure", "text": LIGHT_AGAIN}, hidden=hidden)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and h.count(Petition) == before  # nothing stored yet
    assert "Đã có phản ánh tương tự đang được xử lý" in html and "CHƯA được gửi" in html
    assert f'href="/a/{existing.id}?lang=vi"' in html and f"/a/{other.id}" not in html
    assert LIGHT in html  # its text is public
    assert code not in html and existing.tracking_code not in html  # never a tracking code
    assert "Vẫn gửi phản ánh của tôi" in html
    assert LIGHT_AGAIN in html  # the typed text kept
    again = hidden_fields(html)
    assert again["similar_seen"] == "1" and again["form_token"] == hidden["form_token"]  # same token
    # Following the existing one: its public page
    with client.get(f"/a/{existing.id}") as page:
        assert page.status_code == 200 and LIGHT in page.get_data(as_text=True)
    # "Send mine anyway" files it, once.
    sent = send(client, "p2motcua", {"category": "infrastructure", "text": LIGHT_AGAIN}, hidden=again)
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/t/")
    sent_again = send(client, "p2motcua", {"category": "infrastructure", "text": LIGHT_AGAIN}, hidden=again)
    assert sent_again.status_code == 303 and sent_again.headers["Location"] == sent.headers["Location"]
    assert h.count(Petition) == before + 1
    mine = db.session.scalar(select(Petition).order_by(Petition.id.desc()))
    assert mine.body == LIGHT_AGAIN and mine.repeat_of_id is None and mine.merged_into_id is None


def test_nothing_similar_files_at_once_and_the_private_text_stays_private(client, send, place, file, h):
    existing = file(place.p2_point, text=LIGHT)  # the citizen did not allow publication
    # another topic: filed at once
    response = send(client, "p2motcua", {"category": "environment", "text": LIGHT_AGAIN})
    assert response.status_code == 303
    # a different matter of the same topic: filed at once
    response = send(client, "p2motcua", {"category": "infrastructure", "text": PAVEMENT})
    assert response.status_code == 303
    response = send(client, "p2motcua", {"category": "infrastructure", "text": LIGHT_PLAIN})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f"/a/{existing.id}" in html
    assert LIGHT not in html and "Nội dung phản ánh này không công khai." in html
    # a honeypot sender is never shown them (and is stored as suspect)
    response = send(client, "p2motcua", {"category": "infrastructure", "text": LIGHT_PLAIN, "website": "x"})
    assert response.status_code == 303


def test_a_photo_is_asked_for_again_when_the_suggestions_are_shown(client, send, place, file):
    import io

    from PIL import Image

    file(place.p2_point, text=LIGHT)
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format="JPEG")
    response = send(client, "p2motcua", {"category": "infrastructure", "text": LIGHT_AGAIN}, photo=out.getvalue())
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "ảnh không được giữ lại" in html


# ------------------------------------------------------------------ repeats

def test_a_petition_filed_again_after_a_similar_one_was_answered_is_a_repeat(place, file, staff, h, login):
    manager, scope = staff
    unit = place.p2_point
    old = file(unit, text=DRAIN, now=utcnow() - timedelta(days=500))
    service.save_answer(db.session, scope, old, "Đã nạo vét cống.", actor=manager)
    service.send_answer(db.session, scope, fresh(old), actor=manager, now=utcnow() - timedelta(days=480))
    assert file(unit, text=DRAIN_AGAIN).repeat_of_id is None  # answered more than 12 months ago
    answered = file(unit, text=DRAIN, now=utcnow() - timedelta(days=40))
    service.save_answer(db.session, scope, answered, "Đã nạo vét cống lần hai.", actor=manager)
    service.send_answer(db.session, scope, fresh(answered), actor=manager, now=utcnow() - timedelta(days=30))
    repeat = file(unit, text=DRAIN_AGAIN)
    assert repeat.repeat_of_id == answered.id
    # not a repeat: another matter, another topic, or a similar one still open
    assert file(unit, text=PAVEMENT).repeat_of_id is None
    assert file(unit, text=DRAIN_AGAIN, category="environment").repeat_of_id is None
    open_one = file(unit, text=LIGHT)
    assert file(unit, text=LIGHT_AGAIN).repeat_of_id is None and open_one.repeat_of_id is None
    # the officials' page says so; a manager unmarks a wrong repeat
    client = login("demo-manager")
    url = f"/admin/petitions/{repeat.id}"
    with client.get(url) as page:
        html = page.get_data(as_text=True)
    assert f"Lặp lại của phản ánh số {answered.id}" in html
    token = h.token_of(client, url)
    with client.post(f"{url}/repeat/unmark", data={"csrf_token": token}) as r:
        assert r.status_code == 303
    assert fresh(repeat).repeat_of_id is None
    [entry] = h.audits("petition.repeat_unmarked")
    assert entry.detail["of"] == service.format_tracking(answered.tracking_code)
    with client.post(f"{url}/repeat/unmark", data={"csrf_token": token}) as r:
        assert r.status_code == 409 and "không được đánh dấu là lặp lại" in r.get_data(as_text=True)
    viewer = login("demo-viewer")
    with viewer.post(f"{url}/repeat/unmark", data={"csrf_token": h.token_of(viewer, url)}) as r:
        assert r.status_code == 403


# ------------------------------------------------------------------ merging duplicates

def test_a_merged_petition_follows_the_survivors_answer_and_keeps_its_code(place, file, staff, h, login, client):
    manager, scope = staff
    unit = place.p2_point
    contact = service.ContactInput(consent_text="Tôi đồng ý.", consent_language="vi", email="dan@example.vn")
    survivor = file(unit, text=LIGHT)
    duplicate = file(unit, text=LIGHT_AGAIN, contact=contact)
    web = login("demo-manager")
    url = f"/admin/petitions/{duplicate.id}"
    with web.get(url) as page:
        html = page.get_data(as_text=True)
    assert f'href="/admin/petitions/{survivor.id}"' in html and 'name="into"' in html  # offered as similar
    with web.post(f"{url}/merge", data={"csrf_token": h.token_of(web, url), "into": str(survivor.id)}) as r:
        assert r.status_code == 303
    d = fresh(duplicate)
    assert d.merged_into_id == survivor.id and d.status == "received"
    assert [e.kind for e in d.events if e.public] == ["received", "merged"]
    [entry] = h.audits("petition.merged")
    assert entry.detail == {"code": service.format_tracking(d.tracking_code),
                            "into": service.format_tracking(survivor.tracking_code)}
    with web.get(f"/admin/petitions/{survivor.id}") as page:
        assert f'href="/admin/petitions/{duplicate.id}"' in page.get_data(as_text=True)
    # the duplicate's petitioner is e-mailed (the existing notifier)
    notify.queue_new(db.session)
    notices = db.session.scalars(select(PetitionNotice).where(PetitionNotice.petition_id == d.id)).all()
    kinds = {db.session.get(PetitionEvent, n.event_id).kind for n in notices}
    assert kinds == {"received", "merged"}
    # a merged petition is not answered on its own
    with pytest.raises(service.PetitionError, match=f"số {survivor.id}"):
        service.save_answer(db.session, scope, d, "Riêng.", actor=manager)
        service.send_answer(db.session, scope, fresh(duplicate), actor=manager)
    db.session.rollback()
    # The survivor's answer goes to both, each with its own event and tracking code.
    service.save_answer(db.session, scope, fresh(survivor), "Đã thay bóng đèn tổ 5 ngày 02/12.", actor=manager)
    service.send_answer(db.session, scope, fresh(survivor), actor=manager)
    d, s = fresh(duplicate), fresh(survivor)
    assert (d.status, d.answer_text, d.answered_at) == ("answered", s.answer_text, s.answered_at)
    assert d.tracking_code != s.tracking_code
    assert [e.kind for e in d.events if e.public][-1] == "answered"
    with client.get(f"/t/{service.format_tracking(d.tracking_code)}") as page:
        assert "Đã thay bóng đèn tổ 5 ngày 02/12." in page.get_data(as_text=True)
    service.make_public(db.session, scope, fresh(survivor), actor=manager)
    d = fresh(duplicate)
    assert d.status == "published" and d.published_at == fresh(survivor).published_at
    notify.queue_new(db.session)
    notices = db.session.scalars(select(PetitionNotice).where(PetitionNotice.petition_id == d.id)).all()
    assert {db.session.get(PetitionEvent, n.event_id).kind for n in notices} == \
        {"received", "merged", "answered", "published"}
    assert len(h.audits("petition.answer_published")) == 2 and len(h.audits("petition.published")) == 2


def test_merging_into_an_answered_petition_gives_the_answer_at_once(place, file, staff):
    manager, scope = staff
    survivor = file(place.p2_point, text=DRAIN)
    service.save_answer(db.session, scope, survivor, "Đã nạo vét cống.", actor=manager)
    service.send_answer(db.session, scope, fresh(survivor), actor=manager)
    service.make_public(db.session, scope, fresh(survivor), actor=manager)
    duplicate = file(place.p2_point, text=DRAIN_AGAIN)
    service.merge(db.session, scope, fresh(duplicate), fresh(survivor), actor=manager)
    d = fresh(duplicate)
    assert (d.status, d.answer_text) == ("published", "Đã nạo vét cống.")
    assert [e.kind for e in d.events] == ["received", "merged", "answered", "published"]


def test_merges_that_make_no_sense_are_refused_with_a_clear_message(place, file, staff, h, login):
    manager, scope = staff
    unit = place.p2_point
    a, b, c = (file(unit, text=t) for t in (LIGHT, LIGHT_AGAIN, LIGHT_PLAIN))
    health = file(place.p2_health, text=LIGHT)
    elsewhere = file(place.p1_point, text=LIGHT)
    refused = file(unit, text=DRAIN)
    service.refuse(db.session, scope, refused, "Không thuộc thẩm quyền của phường.", actor=manager)
    answered = file(unit, text=POTHOLE)
    service.save_answer(db.session, scope, answered, "Đã vá.", actor=manager)
    service.send_answer(db.session, scope, fresh(answered), actor=manager)
    service.merge(db.session, scope, fresh(b), fresh(a), actor=manager)
    web = login("demo-manager")

    def merge(dup, into, status, words):
        url = f"/admin/petitions/{dup.id}"
        with web.post(f"{url}/merge", data={"csrf_token": h.token_of(web, url), "into": str(into)}) as r:
            body = r.get_data(as_text=True)
            assert r.status_code == status, (dup.id, into, r.status_code)
            assert words in body, (words, re.findall(r'<p class="err">([^<]*)', body))

    merge(a, a.id, 409, "không thể gộp vào chính nó")
    merge(b, c.id, 409, f"đã được gộp vào phản ánh số {a.id}")
    merge(c, b.id, 409, f"Phản ánh số {b.id} đã được gộp vào phản ánh số {a.id}")  # no chains
    merge(a, c.id, 409, "Đã có phản ánh khác được gộp vào phản ánh này")
    merge(c, health.id, 409, "cùng một đơn vị xử lý")
    merge(c, elsewhere.id, 404, "Không có phản ánh nào mang số này")  # outside the manager's scope
    merge(c, 999999, 404, "Không có phản ánh nào mang số này")
    merge(c, "abc", 422, "Không có phản ánh nào mang số này")
    merge(c, refused.id, 409, "đã đóng hoặc bị từ chối")
    merge(answered, c.id, 409, "đã có câu trả lời hoặc đã đóng")
    assert fresh(c).merged_into_id is None and fresh(a).merged_into_id is None
    assert len(h.audits("petition.merged")) == 1
    viewer = login("demo-viewer")
    url = f"/admin/petitions/{c.id}"
    with viewer.post(f"{url}/merge", data={"csrf_token": h.token_of(viewer, url), "into": str(a.id)}) as r:
        assert r.status_code == 403
    # the manager of the health station alone cannot merge the ward counter's petitions
    yte = login("ytemanager")
    url = f"/admin/petitions/{health.id}"
    with yte.post(f"{url}/merge", data={"csrf_token": h.token_of(yte, url), "into": str(c.id)}) as r:
        assert r.status_code == 404
    assert fresh(health).merged_into_id is None
