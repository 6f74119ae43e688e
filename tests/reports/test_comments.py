"""Comments: the open answers of the period, newest first, searchable (NFC,
case-insensitive), paginated; a manager hides an abusive one (kept, audited), a viewer
cannot, and nobody outside the unit's scope can."""
from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime, timezone

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, CommentFlag


def page(client, url: str, status: int = 200) -> str:
    with client.get(url) as response:
        assert response.status_code == status, (url, response.status_code)
        return html.unescape(response.get_data(as_text=True))


def shown(body: str) -> list[str]:
    return re.findall(r'<blockquote class="ctext">(.*?)</blockquote>', body, re.S)


def answer_of(response_id: int) -> Answer:
    return db.session.scalar(select(Answer).where(Answer.response_id == response_id, Answer.question_key == "comment"))


def test_comments_newest_first_without_suspect_ones(place, sipas, login, h):
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}/comments?{h.qs()}")
    order = [text for _rid, text in sorted(sipas.comments.items(), key=lambda kv: kv[0], reverse=True)]
    assert shown(body) == order
    assert "spam spam" not in body
    with_suspect = page(login("demo-viewer"), f"/reports/{place.p2.id}/comments?{h.qs(include_suspect='1')}")
    assert shown(with_suspect).count("spam spam") == 2


def test_search_is_case_insensitive_on_nfc_text(place, sipas, login, h):
    client = login("demo-viewer")
    decomposed_upper = unicodedata.normalize("NFD", "ĐỀ NGHỊ").upper()
    for query in ("đề nghị", decomposed_upper, "Đề Nghị"):
        found = shown(page(client, f"/reports/{place.p2.id}/comments?{h.qs(q=query)}"))
        assert sorted(found) == sorted(["ĐỀ NGHỊ niêm yết phí rõ ràng hơn.", "Nhà vệ sinh bẩn, đề nghị sửa."]), query
    assert shown(page(client, f"/reports/{place.p2.id}/comments?{h.qs(q='không có')}")) == []


def test_comments_are_paginated(place, login, h):
    keys = h.sipas_keys()
    for i in range(30):
        h.submit(place.p2_point, [(k, 4, None) for k in keys] + [("comment", None, f"Góp ý số {i:02d}")],
                 datetime(2026, 5, 1, 1, i, tzinfo=timezone.utc))
    client = login("demo-viewer")
    first = page(client, f"/reports/{place.p2.id}/comments?{h.qs()}")
    assert shown(first)[0] == "Góp ý số 29" and len(shown(first)) == 25
    second = page(client, f"/reports/{place.p2.id}/comments?{h.qs(page=2)}")
    assert shown(second) == [f"Góp ý số {i:02d}" for i in range(4, -1, -1)]
    page(client, f"/reports/{place.p2.id}/comments?{h.qs(page='x')}", status=400)


def test_a_manager_hides_a_comment_it_is_kept_and_audited(place, sipas, login, h):
    rid, text = next(iter(sipas.comments.items()))
    answer = answer_of(rid)
    client = login("demo-manager")
    body = page(client, f"/reports/{place.p2.id}/comments?{h.qs()}")
    token = h.csrf_from(body)
    with client.post(f"/reports/{place.p2.id}/comments/moderate",
                     data={"csrf_token": token, "answer": answer.id, "action": "hide", **h.WINDOW}) as response:
        assert response.status_code == 303
        assert "instrument=sipas" in response.headers["Location"]
    after = page(client, f"/reports/{place.p2.id}/comments?{h.qs()}")
    assert text not in shown(after) and "1 góp ý đã bị ẩn" in after
    assert text in shown(page(client, f"/reports/{place.p2.id}/comments?{h.qs(hidden='1')}"))
    db.session.expire_all()
    assert answer_of(rid).value_text == text  # hidden, not deleted
    flag = db.session.scalar(select(CommentFlag).where(CommentFlag.answer_id == answer.id))
    assert flag.hidden and flag.changed_by_id == h.official("demo-manager").id
    [event] = h.audits("comment.hidden")
    assert event.actor_name == "demo-manager" and event.target == f"answer:{answer.id}"
    assert event.unit_path == place.p2_point.path
    # and shown again
    with client.post(f"/reports/{place.p2.id}/comments/moderate",
                     data={"csrf_token": token, "answer": answer.id, "action": "restore"}) as response:
        assert response.status_code == 303
    assert text in shown(page(client, f"/reports/{place.p2.id}/comments?{h.qs()}"))
    assert len(h.audits("comment.restored")) == 1


def test_a_viewer_cannot_hide_and_other_wards_cannot_touch(place, sipas, login, h):
    rid = next(iter(sipas.comments))
    answer = answer_of(rid)
    viewer = login("demo-viewer")
    body = page(viewer, f"/reports/{place.p2.id}/comments?{h.qs()}")
    assert "/comments/moderate" not in body
    token = h.csrf_from(body)
    with viewer.post(f"/reports/{place.p2.id}/comments/moderate",
                     data={"csrf_token": token, "answer": answer.id, "action": "hide"}) as response:
        assert response.status_code == 403
    other = login("p1manager")
    token = h.token_of(other)
    for unit in (place.p1, place.p2):  # through their own ward, or through ours
        with other.post(f"/reports/{unit.id}/comments/moderate",
                        data={"csrf_token": token, "answer": answer.id, "action": "hide"}) as response:
            assert response.status_code == 404
    # a manager cannot hide a scale answer either
    scale = db.session.scalar(select(Answer).where(Answer.response_id == rid, Answer.question_key == "tc1"))
    manager = login("demo-manager")
    with manager.post(f"/reports/{place.p2.id}/comments/moderate",
                      data={"csrf_token": h.token_of(manager), "answer": scale.id, "action": "hide"}) as response:
        assert response.status_code == 400
    assert h.count(CommentFlag) == 0 and h.audits("comment.hidden") == []
