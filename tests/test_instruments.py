"""Instrument files: the shipped ones load; broken ones are refused whole, precisely."""
from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Instrument, InstrumentVersion
from survey_app.services.collect import instruments
from survey_app.services.collect.instruments import InstrumentError, parse_bytes

SURVEYS = Path(__file__).resolve().parent.parent / "surveys"
QUESTION_TYPES_SHIPPED = {"scale", "single", "yesno", "percent", "text", "longtext"}

MINIMAL = """
schema = 1
key = "mini"
kind = "admin"
title = { vi = "Thử", en = "Test" }
[scales.likert5]
levels = [
  { value = 1, vi = "Một", en = "One" }, { value = 2, vi = "Hai", en = "Two" },
  { value = 3, vi = "Ba", en = "Three" }, { value = 4, vi = "Bốn", en = "Four" },
  { value = 5, vi = "Năm", en = "Five" },
]
satisfied = [4, 5]
[[questions]]
key = "q1"
type = "scale"
scale = "likert5"
text = { vi = "Câu một", en = "Question one" }
[[questions]]
key = "q2"
type = "text"
required = false
text = { vi = "Ý kiến", en = "Comment" }
[scoring]
method = "satisfied_share"
"""


def test_every_shipped_instrument_is_valid():
    files = sorted(SURVEYS.glob("*.toml"))
    assert {f.stem for f in files} == {"sipas", "one-stop", "health-outpatient", "education-parents", "quick-feedback",
                                       "papi-mirror"}
    for path in files:
        definition = instruments.parse_file(path)
        assert definition["title"]["vi"] and definition["title"]["en"]
        for q in definition["questions"]:
            assert unicodedata.is_normalized("NFC", q["text"]["vi"])


def test_shipped_instruments_follow_the_official_structure():
    sipas = instruments.parse_file(SURVEYS / "sipas.toml")
    assert [f["vi"] for f in sipas["factors"]] == [
        "Tiếp cận dịch vụ hành chính công",
        "Thủ tục hành chính",
        "Công chức trực tiếp giải quyết công việc",
        "Kết quả cung ứng dịch vụ hành chính công",
        "Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị",
    ]
    per_factor = [sum(q["factor"] == f["key"] for q in sipas["questions"]) for f in sipas["factors"]]
    assert per_factor == [4, 4, 5, 3, 3]  # the 19 service criteria of 1001/QĐ-BNV (2023)
    assert sipas["scoring"]["method"] == "satisfied_share"
    assert sipas["scales"]["likert5"]["satisfied"] == [4, 5]

    one_stop = instruments.parse_file(SURVEYS / "one-stop.toml")
    scored = [q for q in one_stop["questions"] if q["type"] == "scale"]
    assert len(scored) == 9
    scale = one_stop["scales"][scored[0]["scale"]]
    assert [lv["value"] for lv in scale["levels"]] == [1, 2, 3]
    assert sum(max(scale["points"].values()) for _ in scored) == one_stop["scoring"]["max_total"] == 18

    health = instruments.parse_file(SURVEYS / "health-outpatient.toml")
    assert [f["vi"].split(". ", 1)[-1] for f in health["factors"]] == [
        "Khả năng tiếp cận",
        "Sự minh bạch thông tin và thủ tục khám bệnh, điều trị",
        "Cơ sở vật chất và phương tiện phục vụ người bệnh",
        "Thái độ ứng xử, năng lực chuyên môn của nhân viên y tế",
        "Kết quả cung cấp dịch vụ",
    ]
    assert health["scoring"]["method"] == "moh"
    by_key = {q["key"]: q for q in health["questions"]}
    assert by_key[health["scoring"]["expectation_question"]]["type"] == "percent"

    education = instruments.parse_file(SURVEYS / "education-parents.toml")
    assert len(education["factors"]) == 5
    quick = instruments.parse_file(SURVEYS / "quick-feedback.toml")
    assert [q["type"] for q in quick["questions"]] == ["scale", "text"]
    types = {q["type"] for d in (sipas, one_stop, health, education, quick) for q in d["questions"]}
    assert QUESTION_TYPES_SHIPPED <= types


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('scale = "likert5"', 'scale = "likert7"'), "x.toml: questions[0].scale: unknown scale 'likert7'"),
        (('type = "text"', 'type = "essay"'), "x.toml: questions[1].type: unknown type 'essay'"),
        (('satisfied = [4, 5]', 'satisfied = [4, 6]'), "x.toml: scales.likert5.satisfied: 6 is not a level of this scale"),
        (('key = "q2"', 'key = "q1"'), "x.toml: questions[1].key: duplicate question 'q1'"),
        (('kind = "admin"', 'kind = "market"'), "x.toml: kind: unknown kind 'market'"),
        (('method = "satisfied_share"', 'method = "magic"'), "x.toml: scoring.method: unknown method 'magic'"),
        (('title = { vi = "Thử", en = "Test" }', 'title = { vi = "Thử" }'), "x.toml: title.en: missing"),
        (('key = "q1"\n', 'key = "q1"\nfactor = "nope"\n'), "x.toml: questions[0].factor: unknown factor 'nope'"),
        (('required = false', 'required = false\ncolour = "red"'), "x.toml: questions[1].colour: unknown field"),
        (('schema = 1', 'schema = 2'), "x.toml: schema: must be 1"),
    ],
)
def test_problems_name_the_file_and_the_field(change, expected):
    broken = MINIMAL.replace(*change)
    assert broken != MINIMAL
    with pytest.raises(InstrumentError) as info:
        parse_bytes(broken.encode(), "x.toml")
    assert any(p.startswith(expected) for p in info.value.problems), info.value.problems


def test_every_problem_is_reported_not_just_the_first():
    broken = MINIMAL.replace('scale = "likert5"', 'scale = "likert7"').replace('type = "text"', 'type = "essay"')
    with pytest.raises(InstrumentError) as info:
        parse_bytes(broken.encode(), "x.toml")
    assert len(info.value.problems) == 2


def test_not_toml_and_not_utf8_are_reported():
    with pytest.raises(InstrumentError, match=r"^x.toml: not valid TOML"):
        parse_bytes(b"key = ", "x.toml")
    with pytest.raises(InstrumentError, match=r"^x.toml: not UTF-8"):
        parse_bytes("title = 'Thử'".encode("utf-16"), "x.toml")


def test_text_is_nfc_normalised_on_load():
    nfd = unicodedata.normalize("NFD", "Câu một")
    definition = parse_bytes(MINIMAL.replace("Câu một", nfd).encode(), "x.toml")
    assert definition["questions"][0]["text"]["vi"] == "Câu một"
    assert unicodedata.is_normalized("NFC", definition["questions"][0]["text"]["vi"])


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_broken_file_never_half_loads(app, tmp_path):
    shutil.copy(SURVEYS / "sipas.toml", tmp_path / "sipas.toml")
    (tmp_path / "zz-broken.toml").write_text(MINIMAL.replace('scale = "likert5"', 'scale = "likert7"'), "utf-8")
    with pytest.raises(InstrumentError) as info:
        instruments.load_directory(db.session, tmp_path)
    assert info.value.problems == [f"{tmp_path.name}/zz-broken.toml: questions[0].scale: unknown scale 'likert7'"]
    assert _count(Instrument) == 0 and _count(InstrumentVersion) == 0


def test_unchanged_file_keeps_its_version_changed_file_gets_a_new_one(app, tmp_path):
    target = tmp_path / "mini.toml"
    target.write_text(MINIMAL, "utf-8")
    first = instruments.load_directory(db.session, tmp_path)
    again = instruments.load_directory(db.session, tmp_path)
    assert [(o.version, o.created) for o in first] == [(1, True)]
    assert [(o.version, o.created) for o in again] == [(1, False)]
    target.write_text(MINIMAL.replace("Câu một", "Câu hỏi một"), "utf-8")
    changed = instruments.load_directory(db.session, tmp_path)
    assert [(o.version, o.created) for o in changed] == [(2, True)]
    versions = db.session.scalars(select(InstrumentVersion).order_by(InstrumentVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].snapshot["questions"][0]["text"]["vi"] == "Câu một"  # the old version is untouched
    assert versions[0].content_hash != versions[1].content_hash


def test_cli_loads_reports_and_refuses(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["instruments", "load"])
    assert result.exit_code == 0, result.output
    assert "sipas: v1 (new version)" in result.output
    result = runner.invoke(args=["instruments", "load"])
    assert "sipas: v1 (unchanged)" in result.output
    (tmp_path / "bad.toml").write_text(MINIMAL.replace('kind = "admin"', 'kind = "market"'), "utf-8")
    result = runner.invoke(args=["instruments", "load", "--dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "bad.toml: kind: unknown kind 'market'" in result.output
    assert "nothing was loaded" in result.output


# ------------------------------------------------------------------ rescale (the PAPI mirror)

FACTORED = (MINIMAL.replace('[[questions]]\nkey = "q1"', '[[factors]]\nkey = "f"\nvi = "Nhóm"\nen = "Group"\n'
                                                        '[[questions]]\nkey = "q1"')
            .replace('scale = "likert5"\ntext', 'scale = "likert5"\nfactor = "f"\ntext'))
RESCALED = FACTORED.replace('method = "satisfied_share"', 'method = "satisfied_share"\nrescale = { min = 1, max = 10, total = "sum" }')


def test_a_declared_range_is_kept_in_the_snapshot_and_absent_otherwise():
    assert instruments.parse_bytes(RESCALED.encode(), "x.toml")["scoring"]["rescale"] == {"min": 1, "max": 10,
                                                                                         "total": "sum"}
    assert "rescale" not in instruments.parse_bytes(FACTORED.encode(), "x.toml")["scoring"]
    mirror = instruments.parse_file(SURVEYS / "papi-mirror.toml")
    assert mirror["scoring"] == {"method": "satisfied_share", "rescale": {"min": 1, "max": 10, "total": "sum"}}
    assert len(mirror["factors"]) == 8 and all(q["factor"] for q in mirror["questions"])


@pytest.mark.parametrize(("rescale", "expected"), [
    ('{ min = 10, max = 1 }', "x.toml: scoring.rescale.max: must be larger than min"),
    ('{ min = "1", max = 10 }', "x.toml: scoring.rescale.min: must be a number from -1000 to 1000"),
    ('{ min = 1, max = 10, total = "median" }', "x.toml: scoring.rescale.total: unknown total 'median'"),
    ('{ min = 1, max = 10, step = 1 }', "x.toml: scoring.rescale.step: unknown field"),
    ('[1, 10]', "x.toml: scoring.rescale: must be a table"),
])
def test_a_bad_range_is_named(rescale, expected):
    text = FACTORED.replace('method = "satisfied_share"', f'method = "satisfied_share"\nrescale = {rescale}')
    with pytest.raises(instruments.InstrumentError) as caught:
        instruments.parse_bytes(text.encode(), "x.toml")
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_a_sum_needs_factors():
    no_factors = MINIMAL.replace('method = "satisfied_share"',
                                 'method = "satisfied_share"\nrescale = { min = 1, max = 10, total = "sum" }')
    with pytest.raises(instruments.InstrumentError) as caught:
        instruments.parse_bytes(no_factors.encode(), "x.toml")
    assert "x.toml: scoring.rescale.total: a sum of factors needs [[factors]]" in caught.value.problems
