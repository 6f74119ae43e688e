"""Publishing results as releases: a manager publishes one complete month, quarter or
year; ``/p/<unit>`` shows its frozen figures without login, trusted responses only, never
comments; every count under 10 is withheld together with whatever would let it be worked
out from any public page (the differencing audit); a period still running is refused; a
correction is a new release that says what changed; withdrawing hides it. Audited."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from analysis.disclosure import audit, figures_for_tree
from survey_app.extensions import db
from survey_app.models import Publication
from survey_app.services.reports import build as reports
from survey_app.services.reports import publication

Q1 = {"instrument": "sipas", "window": "2026-Q1"}


def page(client, url: str, status: int = 200) -> str:
    with client.get(url) as response:
        assert response.status_code == status, (url, response.status_code)
        return html.unescape(response.get_data(as_text=True))


def publish(client, unit, h, **params):
    body = page(client, f"/reports/{unit.id}/publications?{h.qs()}")
    data = {"csrf_token": h.csrf_from(body), **Q1, **params}
    return client.post(f"/reports/{unit.id}/publish", data=data)


def pct(x: float) -> str:
    return f"{100 * x:.1f}".replace(".", ",") + "%"


def numbers(body: str) -> set[str]:
    """Every number shown in the page's tables and headline."""
    main = body.split("<main>")[1]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", main, re.S) + re.findall(r'class="kpi-[a-z]+">(.*?)</p>', main, re.S)
    found = set()
    for cell in cells:
        found.update(re.findall(r"\d+(?:[.,]\d+)?", re.sub(r"<[^>]+>", " ", cell)))
    return found


def rows_below(body: str) -> dict[str, str]:
    table = body.split("Các đơn vị trực thuộc")[1].split("</table>")[0]
    return {name: row for name, row in
            re.findall(r"<tr><th scope=\"row\">(?:<a [^>]+>)?([^<]+)(?:</a>)?</th>(.*?)</tr>", table, re.S)}


def test_a_manager_publishes_a_quarter_and_anyone_reads_its_frozen_figures(place, sipas, login, h):
    client = login("demo-manager")
    with publish(client, place.p2, h) as response:
        assert response.status_code == 303
    [pub] = db.session.scalars(select(Publication)).all()
    assert (pub.unit_id, pub.instrument.key, pub.period, str(pub.date_from), str(pub.date_to), pub.release_no) == (
        place.p2.id, "sipas", "quarter", "2026-01-01", "2026-03-31", 1)
    [event] = h.audits("report.published")
    assert event.actor_name == "demo-manager" and event.detail["period"] == "2026-Q1"
    anyone = client.application.test_client()
    body = page(anyone, "/p/vn/qt/p2")
    r = reports.make_report(db.session, reports.ReportRequest(
        unit=place.p2, instrument_key="sipas", date_from=pub.date_from, date_to=pub.date_to))
    assert r["responses"] == 15  # trusted responses of the quarter
    assert pct(r["index"]["value"]) in body and "15 phiếu" in body and "Quý 1/2026" in body
    # the public page speaks plainly: "khoảng … đến …", never a p-value
    assert f"nhiều khả năng khoảng {pct(r['index']['low'])} đến {pct(r['index']['high'])}" in body
    assert "p =" not in body and "p <" not in body
    for f in r["factors"]:
        assert pct(f["index"]) in body
    # every month had 5 responses: each is withheld, and with three months no trend is stated
    months = body.split("Theo từng tháng")[1].split("</table>")[0]
    assert months.count("không công bố*") == 3 and ">5<" not in months
    assert 'id="trend-sentence"' not in body
    for text in sipas.comments.values():
        assert text not in body
    assert "spam" not in body
    english = page(anyone, "/p/vn/qt/p2?lang=en")
    assert f"{100 * r['index']['value']:.1f}%" in english and "How these numbers were computed" in english

    # A late answer for the quarter does not move the published figures.
    before = page(anyone, "/p/vn/qt/p2?lang=vi")
    keys = h.sipas_keys()
    h.submit(place.p2_point, [(k, 1, None) for k in keys], datetime(2026, 3, 30, 2, tzinfo=timezone.utc))
    assert page(anyone, "/p/vn/qt/p2?lang=vi") == before
    assert reports.make_report(db.session, reports.ReportRequest(
        unit=place.p2, instrument_key="sipas", date_from=pub.date_from, date_to=pub.date_to))["responses"] == 16

    # Publishing the same period again changes nothing; a correction is a new release.
    with publish(client, place.p2, h) as response:
        assert response.status_code == 303
    assert h.count(Publication) == 1 and len(h.audits("report.published")) == 1
    with publish(client, place.p2, h, correction_note="Thêm một phiếu giấy nhập muộn") as response:
        assert response.status_code == 303
    db.session.expire_all()
    old, new = db.session.scalars(select(Publication).order_by(Publication.id)).all()
    assert old.unpublished_at is not None and new.active and (new.release_no, new.supersedes_id) == (2, old.id)
    corrected = page(anyone, "/p/vn/qt/p2?lang=vi")
    assert "16 phiếu" in corrected and "bản đính chính số 2" in corrected
    assert "Nội dung đính chính: Thêm một phiếu giấy nhập muộn" in corrected
    assert h.audits("report.published")[-1].detail["supersedes"] == old.id


def test_a_period_that_has_not_ended_or_is_not_a_calendar_period_is_refused(place, sipas, login, h):
    client = login("demo-manager")
    today = publication.local_today()
    month = f"{today.year}-{today.month:02d}"
    for params, words in ((dict(window=month), "chưa kết thúc"), (dict(window=str(today.year)), "chưa kết thúc"),
                          (dict(window="custom", **{"from": "2026-01-01", "to": "2026-03-31"}), "trọn một kỳ"),
                          (dict(window="12m"), "trọn một kỳ"),
                          (dict(correction_note="sửa"), "chưa có gì để đính chính")):
        with publish(client, place.p2, h, **params) as response:
            assert response.status_code == 400, params
            assert words in html.unescape(response.get_data(as_text=True)), params
    assert h.count(Publication) == 0
    # the form offers only periods that have ended
    body = page(client, f"/reports/{place.p2.id}/publications")
    offered = re.findall(r'<option value="(\d{4}(?:-Q\d|-\d\d)?)"', body.split('id="p-window"')[1].split("</select>")[0])
    assert offered and month not in offered and str(today.year) not in offered
    assert all(publication.period_bounds(v)[1] < today for v in offered)


def test_unpublished_periods_are_never_public(place, sipas, login, h):
    anyone = login("demo-viewer").application.test_client()
    assert "Chưa có kết quả nào được công khai" in page(anyone, "/p/vn/qt/p2")
    client = login("demo-manager")
    publish(client, place.p2, h).close()
    pub = db.session.scalar(select(Publication))
    token = h.csrf_from(page(client, f"/reports/{place.p2.id}/publications"))
    with client.post(f"/reports/{place.p2.id}/unpublish", data={"csrf_token": token, "publication": pub.id}) as r:
        assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Publication, pub.id).unpublished_at is not None  # kept, withdrawn
    [event] = h.audits("report.unpublished")
    assert event.actor_name == "demo-manager"
    assert "Chưa có kết quả nào được công khai" in page(anyone, "/p/vn/qt/p2")
    page(anyone, f"/p/vn/qt/p2?publication={pub.id}", status=404)
    page(anyone, f"/p/vn/qt/p2/trend.svg?publication={pub.id}", status=404)
    page(anyone, "/p/vn/nowhere", status=404)


def test_viewers_and_other_wards_cannot_publish_or_withdraw(place, sipas, login, h):
    viewer = login("demo-viewer")
    with publish(viewer, place.p2, h) as response:
        assert response.status_code == 403
    manager = login("demo-manager")
    publish(manager, place.p2, h).close()
    pub = db.session.scalar(select(Publication))
    other = login("p1manager")
    token = h.token_of(other)
    with other.post(f"/reports/{place.p2.id}/publish", data={"csrf_token": token, **Q1}) as response:
        assert response.status_code == 404
    for unit in (place.p1, place.p2):
        with other.post(f"/reports/{unit.id}/unpublish", data={"csrf_token": token, "publication": pub.id}) as r:
            assert r.status_code == 404
    with viewer.post(f"/reports/{place.p2.id}/unpublish",
                     data={"csrf_token": h.token_of(viewer), "publication": pub.id}) as response:
        assert response.status_code == 403
    assert h.count(Publication) == 1 and db.session.get(Publication, pub.id).unpublished_at is None


def test_a_bad_publication_form_is_a_400(place, login, h):
    client = login("demo-manager")
    for params in (dict(window="2026-13"), dict(instrument="nope"), dict(correction_note="x" * 1001)):
        with publish(client, place.p2, h, **params) as response:
            assert response.status_code == 400, params
    assert h.count(Publication) == 0


def quick(h, unit, n: int, year: int = 2026, month: int = 3, level: int = 4) -> None:
    for i in range(n):
        h.submit(unit, [("overall", level if i % 3 else 2, None), ("comment", None, f"ý kiến {unit.code} {i}")],
                 datetime(year, month, 1 + i % 27, 2, tzinfo=timezone.utc), key="quick-feedback")


def test_secondary_suppression_hides_a_sibling_so_a_small_unit_cannot_be_recovered(place, login, h):
    """Three service points below the ward answer the same quick survey: 25, 12 and 6.
    The 6 is withheld; since the ward's total (43) is public, the 12 must be withheld too,
    or 43 − 25 − 12 would give the 6 away."""
    quick(h, place.p2_point, 25)
    quick(h, place.p2_health, 12)
    quick(h, place.p2_school, 6)
    manager = login("demo-manager")
    publish(manager, place.p2, h, instrument="quick-feedback", window="2026-03").close()
    body = page(manager.application.test_client(), "/p/vn/qt/p2")
    assert "43 phiếu" in body
    rows = rows_below(body)
    assert "25" in rows["Bộ phận Một cửa Phường 2"]
    assert "không công bố" in rows["Trạm Y tế Phường 2"] and "12" not in rows["Trạm Y tế Phường 2"]
    assert "không công bố" in rows["Trường Tiểu học Phường 2"] and "6" not in rows["Trường Tiểu học Phường 2"]
    shown = numbers(body)
    assert "6" not in shown and "12" not in shown and "18" not in shown
    for text in ("ý kiến p2yte 1", "ý kiến p2motcua 3"):
        assert text not in body  # comments are never public


def _published_counts(tree, pubs, by_path):
    """Every count figure shown or withheld on the given releases, as the auditor sees them:
    (expression, shown?)."""
    out = []
    for pub in pubs:
        res = pub.figures["results"]
        label = {"month": f"{pub.date_from.year}-{pub.date_from.month:02d}",
                 "quarter": f"{pub.date_from.year}-Q{(pub.date_from.month - 1) // 3 + 1}"}[pub.period]
        whole = res["withheld"]
        out.append((tree.count(pub.unit_id, label), not whole))
        for row in res.get("units") or []:
            out.append((tree.count(by_path[row["unit"]], label), not whole and not row["withheld"]))
        for row in res.get("trend") or []:
            if row["period"] != label:
                out.append((tree.count(pub.unit_id, row["period"]), not whole and not row["withheld"]))
    return out


def _reader(place, counts):
    """What a reader can infer from public pages: a tree of the ward's three points and
    their months, and the true atom values ``counts[(point, month)]``."""
    points = [place.p2_point, place.p2_health, place.p2_school]
    months = sorted({m for _p, m in counts})
    tree = figures_for_tree({p.id: [place.p2.id] for p in points},
                            {m: [f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}"] for m in months})
    truth = {a: counts.get((a[0], a[1]), 0) for a in tree.atoms}
    return tree, truth


def test_the_levels_attack_finds_nothing(place, login, h):
    """Old rule: the ward page withholds point A (6) and, as its protecting cell, point B
    (14); B's own page publishes 14, so A = 45 − 25 − 14. Now B's page cannot show it."""
    quick(h, place.p2_school, 6)
    quick(h, place.p2_health, 14)
    quick(h, place.p2_point, 25)
    manager = login("demo-manager")
    by_path = {u.path: u.id for u in (place.p2, place.p2_point, place.p2_health, place.p2_school)}
    tree, truth = _reader(place, {(place.p2_school.id, "2026-03"): 6, (place.p2_health.id, "2026-03"): 14,
                                  (place.p2_point.id, "2026-03"): 25})
    a = tree.count(place.p2_school.id, "2026-03")
    # the attack works against table-by-table suppression
    old_ward = publication.suppress_report(reports.make_report(db.session, reports.ReportRequest(
        unit=place.p2, instrument_key="quick-feedback", date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))))
    shown_old = [tree.count(place.p2.id, "2026-03"), tree.count(place.p2_point.id, "2026-03"),
                 tree.count(place.p2_health.id, "2026-03")]  # B's own page shows its 14
    assert {u["unit"] for u in old_ward["units"] if u["withheld"]} == {place.p2_school.path, place.p2_health.path}
    old = audit(tree.atoms, {f: sum(truth[t] * c for t, c in f.terms) for f in shown_old}, [a])
    assert (old.range_of(a).low, old.range_of(a).high) == (6, 6)

    for unit in (place.p2, place.p2_health, place.p2_school, place.p2_point):
        with publish(manager, unit, h, instrument="quick-feedback", window="2026-03") as response:
            assert response.status_code == 303
    pubs = list(db.session.scalars(select(Publication).where(Publication.unpublished_at.is_(None))))
    assert len(pubs) == 4
    figures = _published_counts(tree, pubs, by_path)
    published = {f: sum(truth[t] * c for t, c in f.terms) for f, shown in figures if shown}
    withheld = sorted({f for f, shown in figures if not shown} | {a}, key=str)
    result = audit(tree.atoms, published, withheld)
    assert result.safe, [(str(r.figure), r.low, r.high) for r in result.ranges]
    r_a = result.range_of(a)
    assert r_a.high - r_a.low + 1 >= 10
    body = page(manager.application.test_client(), "/p/p2yte")
    assert "14" not in numbers(body)


def test_the_overlapping_periods_attack_finds_nothing(place, login, h):
    """Month releases of the ward for October, November and December and the quarter's
    release: the quarter's row for point B minus B's October and December rows would give
    B's November (2), withheld on November's page. The quarter's release must not allow it."""
    a, b = place.p2_point, place.p2_health
    counts = {(a.id, "2025-10"): 20, (b.id, "2025-10"): 15, (a.id, "2025-11"): 12, (b.id, "2025-11"): 2,
              (a.id, "2025-12"): 15, (b.id, "2025-12"): 11}
    for (unit_id, month), n in counts.items():
        quick(h, a if unit_id == a.id else b, n, year=2025, month=int(month[5:]))
    manager = login("demo-manager")
    for window in ("2025-10", "2025-11", "2025-12", "2025-Q4"):
        with publish(manager, place.p2, h, instrument="quick-feedback", window=window) as response:
            assert response.status_code == 303, window
    by_path = {u.path: u.id for u in (place.p2, place.p2_point, place.p2_health, place.p2_school)}
    tree, truth = _reader(place, counts)
    pubs = list(db.session.scalars(select(Publication).where(Publication.unpublished_at.is_(None))))
    figures = _published_counts(tree, pubs, by_path)
    published = {f: sum(truth[t] * c for t, c in f.terms) for f, shown in figures if shown}
    b_nov = tree.count(b.id, "2025-11")
    # without the audit, the quarter's rows would be public: B's November would be 28 − 15 − 11
    naive = {**published, tree.count(b.id, "2025-Q4"): 28, tree.count(a.id, "2025-Q4"): 47}
    assert (lambda r: (r.low, r.high))(audit(tree.atoms, naive, [b_nov]).range_of(b_nov)) == (2, 2)
    result = audit(tree.atoms, published, sorted({f for f, shown in figures if not shown} | {b_nov}, key=str))
    assert result.safe, [(str(r.figure), r.low, r.high) for r in result.ranges]
    quarter = next(p for p in pubs if p.period == "quarter")
    assert quarter.figures["results"]["responses"] == 75  # the ward's quarter total stays public


def test_the_suppressed_report_never_keeps_a_cell_under_ten():
    """The pure rule, on a report with small units and small periods."""
    unit = lambda name, n: {"unit": f"/x/{name}/", "code": None, "name": {"vi": name, "en": name}, "n": n,  # noqa
                            "low": 0.4, "high": 0.6, "index": 0.5 if n else None}
    report = {
        "unit": {}, "instrument": {"method": "satisfied_share"}, "window": {}, "responses": 60,
        "index": {"value": 0.8, "low": 0.7, "high": 0.9, "unit": "share", "n": 60},
        "factors": [], "trend": [{"period": p, "n": n, "index": 0.8, "low": 0.7, "high": 0.9, "position": i,
                                  "partial": False}
                                 for i, (p, n) in enumerate((("2026-01", 30), ("2026-02", 25), ("2026-03", 5)))],
        "units": [unit("a", 40), unit("b", 11), unit("c", 9), unit("d", 0)],
    }
    out = publication.suppress_report(report)
    ns = {u["name"]["vi"]: u["n"] for u in out["units"]}
    assert ns == {"a": 40, "b": None, "c": None, "d": 0}
    assert [p["n"] for p in out["trend"]] == [30, None, None]
    assert all(u["index"] is None and u["low"] is None for u in out["units"] if u["withheld"])
    assert "p" not in out["trend_test"]  # no p-value on a public page
    small = dict(report, responses=9, index=dict(report["index"], n=9))
    assert publication.suppress_report(small)["withheld"] is True
    assert publication.suppress_report(small)["units"] == []


@pytest.mark.parametrize("ref", ["vn/qt/p2", "p2motcua"])
def test_the_public_page_takes_a_path_or_a_code(place, login, h, ref):
    assert page(login("demo-viewer").application.test_client(), f"/p/{ref}").count("<h1>") == 1
