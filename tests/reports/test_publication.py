"""Publishing results: a manager publishes a period, ``/p/<unit>`` shows it without login
with every cell under 10 withheld (and its sibling, so it cannot be recovered from the
total), trusted responses only, never comments; un-publishing hides it again. Audited."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Publication
from survey_app.services.reports import build as reports
from survey_app.services.reports import publication


def page(client, url: str, status: int = 200) -> str:
    with client.get(url) as response:
        assert response.status_code == status, (url, response.status_code)
        return html.unescape(response.get_data(as_text=True))


def publish(client, unit, h, **params):
    body = page(client, f"/reports/{unit.id}/publications?{h.qs()}")
    data = {"csrf_token": h.csrf_from(body), **h.WINDOW, "period": "month", **params}
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


def test_a_manager_publishes_and_anyone_reads_it(place, sipas, login, h):
    client = login("demo-manager")
    with publish(client, place.p2, h, period="quarter") as response:
        assert response.status_code == 303
    [pub] = db.session.scalars(select(Publication)).all()
    assert (pub.unit_id, pub.instrument.key, str(pub.date_from), str(pub.date_to)) == (
        place.p2.id, "sipas", "2026-01-01", "2026-06-30")
    [event] = h.audits("report.published")
    assert event.actor_name == "demo-manager" and event.detail["from"] == "2026-01-01"
    anyone = client.application.test_client()
    body = page(anyone, "/p/vn/qt/tx-qt/p2")
    r = reports.make_report(db.session, reports.ReportRequest(
        unit=place.p2, instrument_key="sipas", date_from=pub.date_from, date_to=pub.date_to))
    assert r["responses"] == 30  # trusted responses only: the two suspect ones are not counted
    assert pct(r["index"]["value"]) in body and "30 phiếu" in body
    for f in r["factors"]:
        assert pct(f["index"]) in body
    assert "/p/vn/qt/tx-qt/p2/trend.svg?publication=" in body
    trend = body.split("Tháng/quý")[1].split("</table>")[0]
    assert "Quý 1/2026" in trend and "Quý 2/2026" in trend and trend.count("15") == 2
    for text in sipas.comments.values():
        assert text not in body
    assert "spam" not in body
    # the trend image is public too, and English works
    with anyone.get(f"/p/vn/qt/tx-qt/p2/trend.svg?publication={pub.id}") as chart:
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    english = page(anyone, "/p/vn/qt/tx-qt/p2?lang=en")
    assert f"{100 * r['index']['value']:.1f}%" in english and "How these numbers were computed" in english
    # publishing the same period again does not make a second one; by month, every month
    # has 5 responses, so the trend is withheld
    with publish(client, place.p2, h, period="month") as response:
        assert response.status_code == 303
    assert h.count(Publication) == 1 and len(h.audits("report.published")) == 1
    monthly = page(anyone, "/p/vn/qt/tx-qt/p2?lang=vi").split("Tháng/quý")[1].split("</table>")[0]
    assert monthly.count("không công bố*") == 6 and ">5<" not in monthly
    assert "/trend.svg" not in page(anyone, "/p/vn/qt/tx-qt/p2?lang=vi")


def test_unpublished_periods_are_never_public(place, sipas, login, h):
    anyone = login("demo-viewer").application.test_client()
    assert "Chưa có kết quả nào được công khai" in page(anyone, "/p/vn/qt/tx-qt/p2")
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
    assert "Chưa có kết quả nào được công khai" in page(anyone, "/p/vn/qt/tx-qt/p2")
    page(anyone, f"/p/vn/qt/tx-qt/p2?publication={pub.id}", status=404)
    page(anyone, f"/p/vn/qt/tx-qt/p2/trend.svg?publication={pub.id}", status=404)
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
    with other.post(f"/reports/{place.p2.id}/publish", data={"csrf_token": token, **h.WINDOW}) as response:
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
    with publish(client, place.p2, h, window="custom", **{"from": "2026-06-01", "to": "2026-01-01"}) as response:
        assert response.status_code == 400
        assert "trước ngày đầu" in html.unescape(response.get_data(as_text=True))
    assert h.count(Publication) == 0


def quick(h, unit, n: int, level: int = 4, month: int = 3) -> None:
    for i in range(n):
        h.submit(unit, [("overall", level if i % 3 else 2, None), ("comment", None, f"ý kiến {unit.code} {i}")],
                 datetime(2026, month, 1 + i % 27, 2, tzinfo=timezone.utc), key="quick-feedback")


def test_secondary_suppression_hides_a_sibling_so_a_small_unit_cannot_be_recovered(place, login, h):
    """Three service points below the ward answer the same quick survey: 25, 12 and 6.
    The 6 is withheld; since the ward's total (43) is public, the 12 must be withheld too,
    or 43 − 25 − 12 would give the 6 away."""
    quick(h, place.p2_point, 25)
    quick(h, place.p2_health, 12)
    quick(h, place.p2_school, 6)
    manager = login("demo-manager")
    publish(manager, place.p2, h, instrument="quick-feedback").close()
    body = page(manager.application.test_client(), "/p/vn/qt/tx-qt/p2")
    assert "43 phiếu" in body
    rows = {name: row for name, row in re.findall(r"<tr><th scope=\"row\">(?:<a [^>]+>)?([^<]+)(?:</a>)?</th>(.*?)</tr>",
                                                  body.split("Các đơn vị trực thuộc")[1].split("</table>")[0], re.S)}
    assert "25" in rows["Bộ phận Một cửa Phường 2"]
    assert "không công bố" in rows["Trạm Y tế Phường 2"] and "12" not in rows["Trạm Y tế Phường 2"]
    assert "không công bố" in rows["Trường Tiểu học Phường 2"] and "6" not in rows["Trường Tiểu học Phường 2"]
    shown = numbers(body)
    assert "6" not in shown and "12" not in shown and "18" not in shown
    for text in ("ý kiến p2yte 1", "ý kiến p2motcua 3"):
        assert text not in body  # comments are never public


def test_the_suppressed_report_never_keeps_a_cell_under_ten():
    """The pure rule, on a report with small units and small periods."""
    unit = lambda name, n: {"unit": f"/x/{name}/", "code": None, "name": {"vi": name, "en": name}, "n": n,  # noqa
                            "share": 0.5 if n else None, "low": 0.4, "high": 0.6, "index": 0.5}
    report = {
        "unit": {}, "instrument": {"method": "satisfied_share"}, "window": {}, "responses": 60,
        "index": {"value": 0.8, "low": 0.7, "high": 0.9, "unit": "share", "n": 60},
        "factors": [], "trend": [{"period": p, "n": n, "index": 0.8, "low": 0.7, "high": 0.9}
                                 for p, n in (("2026-01", 30), ("2026-02", 25), ("2026-03", 5))],
        "units": [unit("a", 40), unit("b", 11), unit("c", 9), unit("d", 0)],
    }
    out = publication.suppress_report(report)
    ns = {u["name"]["vi"]: u["n"] for u in out["units"]}
    assert ns == {"a": 40, "b": None, "c": None, "d": 0}
    assert [p["n"] for p in out["trend"]] == [30, None, None]
    assert all(u["share"] is None for u in out["units"] if u["withheld"])
    small = dict(report, responses=9, index=dict(report["index"], n=9))
    assert publication.suppress_report(small)["withheld"] is True
    assert publication.suppress_report(small)["units"] == []


@pytest.mark.parametrize("ref", ["vn/qt/tx-qt/p2", "p2motcua"])
def test_the_public_page_takes_a_path_or_a_code(place, login, h, ref):
    assert page(login("demo-viewer").application.test_client(), f"/p/{ref}").count("<h1>") == 1
