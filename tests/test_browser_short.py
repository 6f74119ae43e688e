"""Issue #15, short pages: every survey a citizen answers, on a 360 × 800 phone in headless
Chromium. The page height (SIPAS at most 3 screens, the one-stop form at most 2), large
targets with their level words, the progress (section counts without JavaScript, a bar
with it), completion with the keyboard alone, and the language switch that keeps the
answers. Full-page screenshots go to /tmp/shots/short-<instrument>.png; the heights to
/tmp/shots/short-heights.txt (run with ``-s`` to see them)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from axe import assert_accessible
from browser import chromium_page, live_server
from helpers import CITIZEN_POINTS, answer_only
from survey_app.extensions import db
from survey_app.models import Answer, Response

pytestmark = pytest.mark.browser

PHONE = (360, 800)
SHOTS = Path("/tmp/shots")
MAX_HEIGHT = {"sipas": 3 * 800, "one-stop": 2 * 800}  # px at 360 × 800; the others are recorded
SEND = "Gửi câu trả lời"


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response))


def required_count(page) -> int:
    """The required questions the page shows now (a question hidden by skip logic excluded)."""
    return page.evaluate("""() => [...document.querySelectorAll("fieldset[id^='q-']")]
        .filter(fs => !fs.disabled && fs.querySelector('[required]')).length""")


def targets_fit(page) -> None:
    """Every target of a compact row is at least 44 × 44 px, and its words are all inside it."""
    boxes = page.evaluate("""() => [...document.querySelectorAll('.pick label')].map(l => {
        const r = l.getBoundingClientRect(), s = l.querySelector('input + span');
        return {w: r.width, h: r.height, fits: s.scrollWidth <= s.clientWidth + 1 && s.scrollHeight <= s.clientHeight + 1,
                font: parseFloat(getComputedStyle(s).fontSize), text: s.innerText};
    })""")
    assert boxes, "no compact row on the page"
    for box in boxes:
        assert box["w"] >= 44 and box["h"] >= 44, box
        assert box["fits"], f"the words of {box['text']!r} do not fit their target"
        assert box["font"] >= 12, box


def test_every_citizen_form_is_short_with_large_targets_and_a_progress_bar(demo_app):
    SHOTS.mkdir(exist_ok=True)
    codes = {key: answer_only(key) for key in CITIZEN_POINTS}
    heights = {}
    with live_server(demo_app) as base, chromium_page(viewport=PHONE, javascript=True) as page:
        for key, code in codes.items():
            page.goto(f"{base}/s/{code}")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0], f"{key} is wider than the phone"
            targets_fit(page)
            # the bar: the required questions answered, none yet
            bar = page.get_by_role("progressbar")
            assert bar.count() == 1
            total = required_count(page)
            assert (bar.get_attribute("max"), bar.get_attribute("value")) == (str(total), "0")
            assert re.fullmatch(rf"Đã trả lời 0/{total} câu bắt buộc", page.locator(".progress label").inner_text())
            heights[key] = page.evaluate("document.documentElement.scrollHeight")
            page.screenshot(path=str(SHOTS / f"short-{key}.png"), full_page=True)
    report = "\n".join(f"{key}: {h} px ({h / PHONE[1]:.2f} screens)" for key, h in heights.items())
    (SHOTS / "short-heights.txt").write_text(report + "\n")
    print("\n" + report)
    for key, limit in MAX_HEIGHT.items():
        assert heights[key] <= limit, f"{key} is {heights[key]} px high, more than {limit}"


def test_sipas_without_javascript_shows_the_section_counts_and_stays_short(demo_app):
    SHOTS.mkdir(exist_ok=True)
    with live_server(demo_app) as base, chromium_page(viewport=PHONE) as page:
        page.goto(f"{base}/s/p2motcua")
        heading = page.locator("h2").first
        assert heading.locator("span").inner_text() == "Câu 1–4/20"
        assert heading.locator("span").is_visible()
        counts = page.locator("h2 span").all_inner_texts()
        assert counts == ["Câu 1–4/20", "Câu 5–8/20", "Câu 9–13/20", "Câu 14–16/20", "Câu 17–19/20"]
        assert page.locator("progress").count() == 0, "no bar that cannot move"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
        targets_fit(page)
        # the level words are on the targets, and they are each radio's name
        first = page.locator("#q-tc1")
        assert first.locator("label").all_inner_texts() == [
            "Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
        assert first.get_by_role("radio", name="Rất không hài lòng", exact=True).count() == 1
        height = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(SHOTS / "short-sipas-nojs.png"), full_page=True)
        print(f"\nsipas without JavaScript: {height} px")
        assert height <= MAX_HEIGHT["sipas"]
        # a tap on the words chooses the level
        first.locator("label").nth(3).click()
        assert first.get_by_role("radio", name="Hài lòng", exact=True).is_checked()


def fill_by_keyboard(page, max_presses: int = 600) -> set[str]:
    """Answer every question the Tab key reaches with Space and an arrow key, then send with
    Enter on the send button: no click. Returns the names of the questions answered."""
    answered: set[str] = set()
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        el = page.evaluate("""() => { const e = document.activeElement;
            return {tag: e.tagName, type: e.type || '', name: e.name || '', required: !!e.required}; }""")
        if el["tag"] == "BUTTON" and el["name"] != "_lang":
            return answered
        if el["type"] == "radio" and el["name"] not in answered:
            page.keyboard.press("Space")  # the first answer
            page.keyboard.press("ArrowRight")  # and the next one instead
            answered.add(el["name"])
        elif el["required"] and el["tag"] in ("INPUT", "TEXTAREA") and el["type"] in ("text", "textarea"):
            page.keyboard.type("Tốt")
            answered.add(el["name"])
    raise AssertionError("the Tab key never reached the send button")


@pytest.mark.parametrize("key", list(CITIZEN_POINTS))
def test_each_form_is_completed_with_the_keyboard_alone(demo_app, key):
    code = answer_only(key)
    with live_server(demo_app) as base, chromium_page(viewport=PHONE, javascript=True) as page:
        page.goto(f"{base}/s/{code}")
        bar = page.get_by_role("progressbar")
        total = required_count(page)
        answered = fill_by_keyboard(page)
        assert page.evaluate("document.activeElement.innerText.trim()") == SEND
        assert bar.get_attribute("value") == str(required_count(page)), "the bar moved to the end"
        assert total > 0 and len(answered) >= required_count(page)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("h1").inner_text() == "Xin cảm ơn!"
    assert stored() == 1
    response = db.session.scalars(select(Response)).one()
    names = {n.removeprefix("q_") for n in answered}
    keys = set(db.session.scalars(select(Answer.question_key).where(Answer.response_id == response.id)))
    assert keys == names


def test_the_progress_bar_moves_as_the_citizen_answers(demo_app):
    with live_server(demo_app) as base, chromium_page(viewport=PHONE, javascript=True) as page:
        page.goto(f"{base}/s/p2motcua")
        bar = page.get_by_role("progressbar", name=re.compile("Đã trả lời"))
        assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("0", "19")
        page.locator("#q-tc1 label").nth(4).click()
        assert bar.get_attribute("value") == "1"
        page.locator("#q-tc1 label").nth(2).click()  # another level of the same question
        assert bar.get_attribute("value") == "1"
        page.locator("#q-tc2 label").nth(3).click()
        assert bar.get_attribute("value") == "2"
        assert page.locator(".progress label").inner_text() == "Đã trả lời 2/19 câu bắt buộc"
        page.locator("textarea").fill("Tốt")  # optional: not counted
        assert bar.get_attribute("value") == "2"
        # it stays in sight at the top while the citizen scrolls down the form
        page.locator("#q-gy3").scroll_into_view_if_needed()
        assert 0 <= bar.bounding_box()["y"] < 40


def test_the_language_button_keeps_the_answers_and_stores_nothing(demo_app):
    SHOTS.mkdir(exist_ok=True)
    with live_server(demo_app) as base, chromium_page(viewport=PHONE) as page:
        page.goto(f"{base}/s/p2motcua")
        page.locator("#q-tc1 label").nth(4).click()
        page.locator("#q-tc2 label").nth(1).click()
        page.locator("textarea").fill("Cán bộ rất tận tình")
        with page.expect_navigation() as switched:
            page.get_by_role("button", name="English").click()
        assert switched.value.status == 200
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#problems").count() == 0, "no error: nothing was sent yet"
        assert page.get_by_role("radio", name="Very satisfied", exact=True).first.is_checked()
        assert page.locator("#q-tc2").get_by_role("radio", name="Dissatisfied", exact=True).is_checked()
        assert page.locator("textarea").input_value() == "Cán bộ rất tận tình"
        assert stored() == 0
        page.screenshot(path=str(SHOTS / "short-sipas-en-switched.png"), full_page=True)
        # and back, still kept; then send in English
        with page.expect_navigation():
            page.get_by_role("button", name="Tiếng Việt").click()
        assert page.locator("html").get_attribute("lang") == "vi"
        assert page.locator("#q-tc1").get_by_role("radio", name="Rất hài lòng", exact=True).is_checked()
        with page.expect_navigation():
            page.get_by_role("button", name="English").click()
        for i in range(page.locator("fieldset[role=radiogroup]").count()):
            group = page.locator("fieldset[role=radiogroup]").nth(i)
            if not group.locator("input:checked").count():
                group.locator("label").nth(3).click()
        page.get_by_role("button", name="Send my answers").click()
        assert page.locator("h1").inner_text() == "Thank you!"
    assert stored() == 1
    response = db.session.scalars(select(Response)).one()
    assert response.language == "en"
    values = dict(db.session.execute(select(Answer.question_key, Answer.value_int)
                                     .where(Answer.response_id == response.id)).all())
    assert (values["tc1"], values["tc2"], values["tc3"]) == (5, 2, 4)


def test_the_health_percentage_is_a_row_of_choices_stored_as_the_number(demo_app):
    with live_server(demo_app) as base, chromium_page(viewport=PHONE, javascript=True) as page:
        page.goto(f"{base}/s/p2yte")
        question = page.locator("#q-expectation")
        assert question.locator("input[type=number]").count() == 0, "nothing to type"
        assert question.get_by_role("radio").count() == 11
        assert question.locator("label").all_inner_texts() == [f"{v}%" for v in range(0, 101, 10)]
        for i in range(page.locator("fieldset[role=radiogroup]").count()):
            group = page.locator("fieldset[role=radiogroup]").nth(i)
            group.locator("label").nth(1).click()
        question.get_by_role("radio", name="70%", exact=True).check()
        page.get_by_role("button", name=SEND).click()
        assert page.locator("h1").inner_text() == "Xin cảm ơn!"
    value = db.session.scalar(select(Answer.value_int).where(Answer.question_key == "expectation"))
    assert value == 70


def test_the_forms_pass_axe_at_360_px(demo_app):
    """The compact rows, the bar and the header's language buttons on every form (the error
    pages are checked in tests/test_browser_forms.py)."""
    codes = {key: answer_only(key) for key in CITIZEN_POINTS}
    with live_server(demo_app) as base, chromium_page(viewport=PHONE, javascript=True) as page:
        for key, code in codes.items():
            page.goto(f"{base}/s/{code}")
            page.locator(".pick label").first.click()
            assert_accessible(page, f"{key} form at 360 px")
