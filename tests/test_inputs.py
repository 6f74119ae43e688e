"""Control characters in a request end in a 400 in the visitor's language, on every route
and before anything reaches the database (PostgreSQL refuses NUL in text: the outside
probe's 276 server errors). Tabs and line breaks in a form's text are still welcome."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from helpers import full_answers, hidden_fields
from survey_app.extensions import db
from survey_app.models import Answer, Petition, Response
from test_survey import definition_for

TITLE_VI = "Yêu cầu không hợp lệ"
MESSAGE_EN = "contains control characters (such as a null byte)"
MESSAGE_VI = "có ký tự điều khiển (chẳng hạn ký tự rỗng)"

ADDRESSES = [
    "/s/%00", "/s/p2motcua%00", "/s/x%00/qr.svg", "/s/x%00/qr.png", "/s/p2motcua/thanks%00", "/k/p2motcua%00",
    "/k/%00/thanks", "/k/enrol/%00", "/p/%00", "/p/vn/qt%00/trend.svg", "/f/%00", "/f/vn/qt/p2%00",
    "/t/%00", "/t?code=7K3QM%00", "/v/%00", "/v?code=%00", "/s/p2motcua?lang=%00", "/s/p2motcua?%00=1",
    "/s/p2%01motcua", "/s/p2motcua%1b", "/s/p2motcua%7f", "/s/p2motcua%0a", "/s/p2motcua?x=a%09b",
    "/api/v1/reports/%00", "/healthz?x=%00", "/login?next=/%00", "/nowhere%00", "/static/site.css%00",
]


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("address", ADDRESSES)
def test_a_control_character_in_the_address_is_a_400(client, address):
    with client.get(address) as response:
        assert response.status_code == 400, (address, response.status_code)
        if response.is_json:
            # no language asked for: the visitor's default, Vietnamese
            assert response.get_json()["error"]["status"] == 400 and MESSAGE_VI in response.get_json()["error"]["message"]
        else:
            assert TITLE_VI in response.get_data(as_text=True)
    joiner = "&" if "?" in address else "?"
    with client.get(address + joiner + "lang=en", headers={"Accept": "text/html"}) as response:
        assert response.status_code == 400
        # the first ``lang`` counts: an address whose own ``lang`` is the bad value stays Vietnamese
        expected = MESSAGE_VI if "lang=" in address else MESSAGE_EN
        assert expected in response.get_data(as_text=True)


def test_a_nul_in_the_login_name_is_a_400(client):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with client.post("/login?lang=en", data={"csrf_token": token, "username": "demo-manager\x00",
                                             "password": "x" * 12}) as response:
        assert response.status_code == 400 and MESSAGE_EN in response.get_data(as_text=True)


@pytest.mark.parametrize("control", ["\x00", "\x08", "\x0b", "\x1f", "\x7f"])
def test_a_control_character_in_a_survey_answer_stores_nothing(client, control):
    url = "/s/p2motcua"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    answers = full_answers(definition_for("p2motcua"), text="Tốt" + control + "lắm")
    with client.post(url, data={**fields, **answers}) as response:
        assert response.status_code == 400
        assert TITLE_VI in response.get_data(as_text=True)
    with client.post(url, data={**fields, **full_answers(definition_for("p2motcua")), "q_\x00": "1"}) as response:
        assert response.status_code == 400, "a field's name is checked too"
    assert count(Response) == 0


def test_tabs_and_line_breaks_in_a_survey_answer_are_welcome(client):
    url = "/s/p2motcua"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    answers = full_answers(definition_for("p2motcua"), text="Dòng một\r\n\tdòng hai\rba")
    with client.post(url, data={**fields, **answers}) as response:
        assert response.status_code == 303
    assert count(Response) == 1
    assert "dòng hai" in db.session.scalar(select(Answer.value_text).where(Answer.value_text.is_not(None)))


def test_a_nul_in_a_petition_stores_nothing(client):
    fields = hidden_fields(client.get("/f/p2motcua").get_data(as_text=True))
    data = {**fields, "category": "procedure", "text": "Đèn đường hỏng\x00 đã hai tuần, buổi tối rất tối."}
    with client.post("/f/p2motcua", data=data) as response:
        assert response.status_code == 400
    with client.post("/f/p2motcua", data={**data, "photo": (io.BytesIO(b"x"), "a.jpg")},
                     content_type="multipart/form-data") as response:
        assert response.status_code == 400, "multipart fields are checked as well"
    assert count(Petition) == 0
