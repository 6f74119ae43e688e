"""Issue #15, words: a citizen is addressed as "Ông/Bà", never "bạn", and every Vietnamese
text is in NFC (one code point per accented letter, as a native keyboard writes it).

Checked on every translation in ``messages.po`` (officials' pages use neutral wording, so
no "bạn" there either) and on every ``vi`` text of the shipped surveys (``surveys/*.toml``).
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "survey_app/translations/vi/LC_MESSAGES/messages.po"

# "bạn" as a word (not "bản", "bán", "bàn": other letters once in NFC), any case. "bạn bè"
# (friends) is the one use that is not a form of address.
BAN = re.compile(r"(?<!\w)bạn(?!\w)(?! bè)", re.IGNORECASE)


def addresses_as_ban(text: str) -> bool:
    return BAN.search(unicodedata.normalize("NFC", text)) is not None


def is_nfc(text: str) -> bool:
    return unicodedata.normalize("NFC", text) == text


def translations() -> list[tuple[str, str]]:
    """(msgid, msgstr) for every translated string, each plural form on its own."""
    with open(PO, "rb") as f:
        catalog = read_po(f)
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs.extend((msgid, s) for s in strings if s)
    return pairs


def _vi_texts(node, where: str):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "vi" and isinstance(value, str):
                yield where, value
            else:
                yield from _vi_texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _vi_texts(value, f"{where}[{i}]")


def survey_texts() -> list[tuple[str, str]]:
    """(file and place, text) for every ``vi`` text of every shipped survey."""
    texts = []
    for path in sorted((ROOT / "surveys").glob("*.toml")):
        texts.extend(_vi_texts(tomllib.loads(path.read_text(encoding="utf-8")), path.name))
    return texts


@pytest.mark.parametrize("text, expected", [
    ("Cảm ơn bạn đã quan tâm.", True),
    ("Bạn có hài lòng không?", True),
    ("BẠN ĐÃ GỬI", True),
    ("Câu trả lời của bạn.", True),
    (unicodedata.normalize("NFD", "Mã của bạn"), True),  # decomposed, still found
    ("Cảm ơn Ông/Bà đã quan tâm.", False),
    ("bản đồ, bán hàng, bàn ghế, Bản sao", False),
    ("Bạn bè của Ông/Bà", False),
    ("bạnbè", False),
])
def test_the_check_finds_bạn_as_a_word_and_nothing_else(text, expected):
    assert addresses_as_ban(text) is expected


def test_the_nfc_check_tells_decomposed_text():
    assert is_nfc("Ông/Bà hài lòng")
    assert not is_nfc(unicodedata.normalize("NFD", "Ông/Bà hài lòng"))


def test_no_translation_says_bạn():
    pairs = translations()
    assert len(pairs) > 1000
    found = [(msgid, s) for msgid, s in pairs if addresses_as_ban(s)]
    assert found == [], "address citizens as Ông/Bà, officials neutrally: " + repr(found)


def test_every_translation_is_nfc():
    assert [(msgid, s) for msgid, s in translations() if not is_nfc(s)] == []


def test_no_survey_text_says_bạn_and_every_one_is_nfc():
    texts = survey_texts()
    assert len(texts) > 150 and {w.partition(".toml")[0] + ".toml" for w, _ in texts} >= {
        "sipas.toml", "quick-feedback.toml", "one-stop.toml", "health-outpatient.toml", "education-parents.toml",
        "papi-mirror.toml"}
    assert [(w, t) for w, t in texts if addresses_as_ban(t)] == []
    assert [(w, t) for w, t in texts if not is_nfc(t)] == []


def test_the_surveys_address_the_citizen_as_ông_bà():
    """Where a survey speaks to the citizen in the second person, it says "Ông/Bà"."""
    texts = [t for _w, t in survey_texts()]
    assert sum("Ông/Bà" in t for t in texts) >= 30
