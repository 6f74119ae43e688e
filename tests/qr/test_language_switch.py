"""Issue #15: switching language mid-form keeps the answers. On the form page the header's
other language is a button of the form (``_lang``) posting to the form's address in that
language; the form comes back in it with every answer filled in, and nothing is stored, no
code spent, no limit counted. Then the real send in the new language is stored once."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from helpers import hidden_fields, survey_target
from survey_app.extensions import db
from survey_app.models import Response, VisitToken
from survey_app.services.qr import tokens

SIPAS = "/s/p2motcua"
BUTTON = ('<button form="survey-form" formaction="/s/p2motcua?lang=en" name="_lang" value="en" '
          'lang="en">English</button>')


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response))


def some_answers() -> dict[str, str]:
    return {"q_tc1": "5", "q_tc2": "2", "q_comment": "Cán bộ rất tận tình"}


def _sipas():
    return survey_target("p2motcua").definition


def assert_kept(html: str) -> None:
    assert re.search(r'name="q_tc1" value="5" checked', html)
    assert re.search(r'name="q_tc2" value="2" checked', html)
    assert len(re.findall(r" checked", html)) == 2
    assert ">Cán bộ rất tận tình</textarea>" in html


def test_the_form_page_offers_the_other_language_as_a_button_of_the_form(client):
    html = client.get(SIPAS).get_data(as_text=True)
    assert BUTTON in html
    assert 'id="survey-form"' in html
    english = client.get(SIPAS + "?lang=en").get_data(as_text=True)
    assert ('<button form="survey-form" formaction="/s/p2motcua?lang=vi" name="_lang" value="vi" '
            'lang="vi">Tiếng Việt</button> · <strong>English</strong>') in english
    # a page without a form keeps the link
    assert 'href="?lang=en"' in client.get("/s/khongco?lang=vi").get_data(as_text=True)


def test_switching_keeps_every_answer_stores_nothing_then_the_send_is_stored_once(client, full_answers):
    html = client.get(SIPAS).get_data(as_text=True)
    first = hidden_fields(html)
    switched = client.post(SIPAS + "?lang=en", data={**first, **some_answers(), "_lang": "en"})
    assert switched.status_code == 200
    body = switched.get_data(as_text=True)
    assert '<html lang="en">' in body and "Send my answers" in body and "Very satisfied" in body
    assert 'id="problems"' not in body, "no error: nothing was sent yet"
    assert_kept(body)
    assert 'action="/s/p2motcua?lang=en"' in body
    assert stored() == 0
    # a new form token, the same CSRF token of the session
    fields = hidden_fields(body)
    assert fields["form_token"] != first["form_token"] and fields["csrf_token"]

    # and back to Vietnamese, still kept
    back = client.post(SIPAS + "?lang=vi", data={**fields, **some_answers(), "_lang": "vi"})
    assert back.status_code == 200 and '<html lang="vi">' in back.get_data(as_text=True)
    assert_kept(back.get_data(as_text=True))
    assert stored() == 0

    answers = {**full_answers(_sipas()), **some_answers()}
    sent = client.post(SIPAS + "?lang=en", data={**fields, **answers})
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/s/p2motcua/thanks?lang=en")
    again = client.post(SIPAS + "?lang=en", data={**fields, **answers})  # the same form sent twice
    assert again.status_code == 303
    assert stored() == 1
    assert db.session.scalars(select(Response)).one().language == "en"


def test_a_switch_with_a_stale_form_token_still_keeps_the_answers(client, full_answers):
    html = client.get(SIPAS).get_data(as_text=True)
    fields = {**hidden_fields(html), "form_token": "forged"}
    switched = client.post(SIPAS + "?lang=en", data={**fields, **some_answers(), "_lang": "en"})
    assert switched.status_code == 200
    body = switched.get_data(as_text=True)
    assert_kept(body)
    assert 'id="problems"' not in body
    sent = client.post(SIPAS + "?lang=en", data={**hidden_fields(body), **full_answers(_sipas())})
    assert sent.status_code == 303 and stored() == 1


def test_switching_does_not_spend_a_one_time_code(client, token_campaign, issue, full_answers):
    campaign = token_campaign()
    code, = issue(campaign)
    html = client.get(f"/v/{code}").get_data(as_text=True)
    assert (f'<button form="survey-form" formaction="/v/{code}?lang=en" name="_lang" value="en" '
            'lang="en">English</button>') in html
    answers = full_answers(campaign.instrument_version.snapshot)
    one = dict(list(answers.items())[:2])
    switched = client.post(f"/v/{code}?lang=en", data={**hidden_fields(html), **one, "_lang": "en"})
    assert switched.status_code == 200 and '<html lang="en">' in switched.get_data(as_text=True)
    for name, value in one.items():
        assert f'name="{name}" value="{value}" checked' in switched.get_data(as_text=True)
    db.session.expire_all()
    row = db.session.scalar(select(VisitToken).where(
        VisitToken.code_hash == tokens.code_hash(tokens.normalize_code(code))))
    assert row.spent_at is None and stored() == 0
    sent = client.post(f"/v/{code}?lang=en", data={**hidden_fields(switched.get_data(as_text=True)), **answers})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/v/{code}/thanks?lang=en"
    db.session.expire_all()
    assert db.session.get(VisitToken, row.id).spent_at is not None and stored() == 1


def test_switching_counts_against_no_limit_of_the_poster(limited, full_answers):
    app = limited(RATELIMIT_SURVEY_FLOOD_DEVICE="1 per 10 minutes", RATELIMIT_SURVEY_DEVICE="1 per 10 minutes",
                  RATELIMIT_SURVEY_POINT="100 per minute")
    client = app.test_client()
    fields = hidden_fields(client.get(SIPAS).get_data(as_text=True))
    for lang in ("en", "vi", "en"):
        switched = client.post(f"{SIPAS}?lang={lang}", data={**fields, **some_answers(), "_lang": lang})
        assert switched.status_code == 200
        fields = hidden_fields(switched.get_data(as_text=True))
    sent = client.post(SIPAS + "?lang=en", data={**fields, **full_answers(_sipas())})
    assert sent.status_code == 303
    db.session.expire_all()
    response = db.session.scalars(select(Response)).one()
    assert (response.trust, response.language) == ("ok", "en"), "the switches were not counted as answers"
