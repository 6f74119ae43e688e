"""Load, validate and version survey instruments (``surveys/*.toml``).

A file is validated completely before anything is written; every problem is reported as
``<file>: <field path>: <message>``. The validated definition is normalised into a JSON
snapshot whose SHA-256 is the version's identity: an unchanged file never makes a new
version, a changed one always does.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.instrument import MAX_DECIMALS, plain, scaled

from ...models import UNIT_KINDS, Instrument, InstrumentVersion
from . import relevance

SCHEMA_VERSION = 1
# A number answer (minutes waited, visits, a weight): bounded so its count table stays
# small. With ``decimals`` (0–4) it is stored as a whole number, value × 10^decimals
# (``analysis.instrument.scaled``), at most 10,000 × 10^4, well inside a 32-bit integer.
NUMBER_MAX = 10_000
QUESTION_TYPES = ("scale", "single", "multi", "yesno", "rating", "percent", "number", "text", "longtext")
SCORING_METHODS = ("satisfied_share", "moh", "points")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
INSTRUMENT_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
TEXT_LIMITS = {"text": (200, 500), "longtext": (2000, 5000)}
MAX_QUESTIONS = 60
MAX_FILE_BYTES = 256 * 1024


class InstrumentError(ValueError):
    """A file failed validation; ``problems`` lists every problem found, and ``details``
    the same problems as ``(field path, message)`` (the path is ``""`` for the file)."""

    def __init__(self, problems: list[str], details: list[tuple[str, str]] | None = None):
        super().__init__("\n".join(problems))
        self.problems = problems
        self.details = details if details is not None else [("", p) for p in problems]


@dataclass
class _Checker:
    source: str
    problems: list[str] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}")
        self.details.append((path, message))

    def text(self, path: str, value: Any, *, required: bool = True, max_len: int = 1000) -> str | None:
        if value is None:
            if required:
                self.fail(path, "missing")
            return None
        if not isinstance(value, str):
            self.fail(path, f"must be text, not {type(value).__name__}")
            return None
        value = unicodedata.normalize("NFC", value).strip()
        if required and not value:
            self.fail(path, "must not be empty")
        if len(value) > max_len:
            self.fail(path, f"longer than {max_len} characters")
        return value

    def bilingual(self, path: str, value: Any, *, required: bool = True, max_len: int = 1000) -> dict[str, str] | None:
        if value is None:
            if required:
                self.fail(path, "missing")
            return None
        if not isinstance(value, dict):
            self.fail(path, "must be a table with 'vi' and 'en'")
            return None
        unknown = set(value) - {"vi", "en"}
        for extra in sorted(unknown):
            self.fail(f"{path}.{extra}", "unknown language (expected 'vi' and 'en')")
        vi = self.text(f"{path}.vi", value.get("vi"), max_len=max_len)
        en = self.text(f"{path}.en", value.get("en"), max_len=max_len)
        if vi is None or en is None:
            return None
        return {"vi": vi, "en": en}

    def labelled(self, path: str, value: Any) -> dict[str, str] | None:
        """An item carrying ``vi`` and ``en`` inline (scale levels, options, factors)."""
        vi = self.text(f"{path}.vi", value.get("vi"), max_len=300)
        en = self.text(f"{path}.en", value.get("en"), max_len=300)
        return {"vi": vi, "en": en} if vi is not None and en is not None else None

    def unknown_keys(self, path: str, table: dict[str, Any], allowed: set[str]) -> None:
        for extra in sorted(set(table) - allowed):
            where = f"{path}.{extra}" if path else extra
            self.fail(where, "unknown field")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Validate a parsed TOML document and return its normalised definition.

    Raises :class:`InstrumentError` listing every problem.
    """
    c = _Checker(source)
    c.unknown_keys("", raw, {"schema", "key", "kind", "title", "intro", "source", "scales", "factors", "questions", "scoring"})
    if raw.get("schema") != SCHEMA_VERSION:
        c.fail("schema", f"must be {SCHEMA_VERSION}")
    key = raw.get("key")
    if not isinstance(key, str) or not INSTRUMENT_KEY_RE.match(key):
        c.fail("key", "must be lowercase letters, digits, '-' or '_', starting with a letter")
    kind = raw.get("kind")
    if kind not in UNIT_KINDS:
        c.fail("kind", f"unknown kind {kind!r} (expected one of {', '.join(UNIT_KINDS)})")
    title = c.bilingual("title", raw.get("title"), max_len=200)
    intro = c.bilingual("intro", raw.get("intro"), required=False)
    source_text = c.text("source", raw.get("source"), required=False, max_len=300)

    scales: dict[str, Any] = {}
    raw_scales = raw.get("scales", {})
    if not isinstance(raw_scales, dict):
        c.fail("scales", "must be a table of named scales")
        raw_scales = {}
    for name, scale in raw_scales.items():
        path = f"scales.{name}"
        if not KEY_RE.match(name):
            c.fail(path, "scale names are lowercase letters, digits and '_'")
        if not isinstance(scale, dict):
            c.fail(path, "must be a table")
            continue
        c.unknown_keys(path, scale, {"levels", "satisfied", "points", "display"})
        levels_raw = scale.get("levels")
        levels: list[dict[str, Any]] = []
        if not isinstance(levels_raw, list) or not 2 <= len(levels_raw) <= 11:
            c.fail(f"{path}.levels", "must list 2 to 11 levels")
            levels_raw = []
        previous = None
        for i, level in enumerate(levels_raw):
            lpath = f"{path}.levels[{i}]"
            if not isinstance(level, dict):
                c.fail(lpath, "must be a table with value, vi and en")
                continue
            c.unknown_keys(lpath, level, {"value", "vi", "en"})
            value = level.get("value")
            if not _is_int(value):
                c.fail(f"{lpath}.value", "must be a whole number")
                continue
            if previous is not None and value <= previous:
                c.fail(f"{lpath}.value", "level values must increase")
            previous = value
            labels = c.labelled(lpath, level)
            if labels:
                levels.append({"value": value, **labels})
        values = [lv["value"] for lv in levels]
        satisfied = scale.get("satisfied")
        if not isinstance(satisfied, list) or not satisfied or not all(_is_int(v) for v in satisfied):
            c.fail(f"{path}.satisfied", "must list the level values that count as satisfied")
            satisfied = []
        for v in satisfied:
            if v not in values:
                c.fail(f"{path}.satisfied", f"{v} is not a level of this scale")
        points = scale.get("points")
        points_out: dict[str, int] | None = None
        if points is not None:
            if not isinstance(points, dict):
                c.fail(f"{path}.points", "must map level values to points")
            else:
                points_out = {}
                for lv, pts in points.items():
                    if not (isinstance(lv, str) and lv.lstrip("-").isdigit() and int(lv) in values):
                        c.fail(f"{path}.points.{lv}", "is not a level of this scale")
                    elif not _is_int(pts) or pts < 0:
                        c.fail(f"{path}.points.{lv}", "must be a whole number of points, 0 or more")
                    else:
                        points_out[str(int(lv))] = pts
                missing = [v for v in values if str(v) not in (points_out or {})]
                if missing:
                    c.fail(f"{path}.points", f"no points for levels {missing}")
        display = scale.get("display", "list")
        if display not in ("list", "smiley"):
            c.fail(f"{path}.display", f"unknown display {display!r} (expected 'list' or 'smiley')")
        scales[name] = {"levels": levels, "satisfied": sorted(set(satisfied)), "points": points_out, "display": display}

    factors: list[dict[str, Any]] = []
    factor_keys: set[str] = set()
    raw_factors = raw.get("factors", [])
    if not isinstance(raw_factors, list):
        c.fail("factors", "must be a list of tables")
        raw_factors = []
    for i, factor in enumerate(raw_factors):
        path = f"factors[{i}]"
        if not isinstance(factor, dict):
            c.fail(path, "must be a table with key, vi and en")
            continue
        c.unknown_keys(path, factor, {"key", "vi", "en"})
        fkey = factor.get("key")
        if not isinstance(fkey, str) or not KEY_RE.match(fkey):
            c.fail(f"{path}.key", "must be lowercase letters, digits and '_', starting with a letter")
            continue
        if fkey in factor_keys:
            c.fail(f"{path}.key", f"duplicate factor {fkey!r}")
        factor_keys.add(fkey)
        labels = c.labelled(path, factor)
        if labels:
            factors.append({"key": fkey, **labels})

    questions: list[dict[str, Any]] = []
    question_keys: set[str] = set()
    raw_questions = raw.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        c.fail("questions", "must list at least one question")
        raw_questions = []
    if len(raw_questions) > MAX_QUESTIONS:
        c.fail("questions", f"at most {MAX_QUESTIONS} questions")
    for i, q in enumerate(raw_questions):
        path = f"questions[{i}]"
        if not isinstance(q, dict):
            c.fail(path, "must be a table")
            continue
        c.unknown_keys(path, q, {"key", "type", "scale", "factor", "required", "text", "help", "options", "max_choices", "min", "max", "max_length", "relevant",
                                 "decimals"})
        qkey = q.get("key")
        if not isinstance(qkey, str) or not KEY_RE.match(qkey):
            c.fail(f"{path}.key", "must be lowercase letters, digits and '_', starting with a letter, at most 32 characters")
            qkey = None
        elif qkey in question_keys:
            c.fail(f"{path}.key", f"duplicate question {qkey!r}")
        else:
            question_keys.add(qkey)
        qtype = q.get("type")
        if qtype not in QUESTION_TYPES:
            c.fail(f"{path}.type", f"unknown type {qtype!r} (expected one of {', '.join(QUESTION_TYPES)})")
            continue
        required = q.get("required", True)
        if not isinstance(required, bool):
            c.fail(f"{path}.required", "must be true or false")
            required = True
        out: dict[str, Any] = {
            "key": qkey, "type": qtype, "required": required,
            "text": c.bilingual(f"{path}.text", q.get("text"), max_len=500),
            "help": c.bilingual(f"{path}.help", q.get("help"), required=False, max_len=500),
            "factor": None,
        }
        if "factor" in q:
            if q["factor"] not in factor_keys:
                c.fail(f"{path}.factor", f"unknown factor {q['factor']!r}")
            else:
                out["factor"] = q["factor"]
        allowed_extra = {
            "scale": {"scale"}, "single": {"options"}, "multi": {"options", "max_choices"},
            "yesno": set(), "rating": set(), "percent": {"min", "max"}, "number": {"min", "max", "decimals"},
            "text": {"max_length"}, "longtext": {"max_length"},
        }[qtype]
        for extra in ("scale", "options", "max_choices", "min", "max", "max_length", "decimals"):
            if extra in q and extra not in allowed_extra:
                c.fail(f"{path}.{extra}", f"does not apply to type {qtype!r}")
        if qtype == "scale":
            scale_name = q.get("scale")
            if scale_name not in scales:
                c.fail(f"{path}.scale", f"unknown scale {scale_name!r}")
            out["scale"] = scale_name
        elif out["factor"] is not None:
            c.fail(f"{path}.factor", "only scale questions can belong to a factor")
        if qtype in ("single", "multi"):
            options = q.get("options")
            opts: list[dict[str, str]] = []
            if not isinstance(options, list) or not 2 <= len(options) <= 20:
                c.fail(f"{path}.options", "must list 2 to 20 options")
                options = []
            seen: set[str] = set()
            for j, opt in enumerate(options):
                opath = f"{path}.options[{j}]"
                if not isinstance(opt, dict):
                    c.fail(opath, "must be a table with key, vi and en")
                    continue
                c.unknown_keys(opath, opt, {"key", "vi", "en"})
                okey = opt.get("key")
                if not isinstance(okey, str) or not KEY_RE.match(okey):
                    c.fail(f"{opath}.key", "must be lowercase letters, digits and '_', starting with a letter")
                    continue
                if okey in seen:
                    c.fail(f"{opath}.key", f"duplicate option {okey!r}")
                seen.add(okey)
                labels = c.labelled(opath, opt)
                if labels:
                    opts.append({"key": okey, **labels})
            out["options"] = opts
            if qtype == "multi":
                mc = q.get("max_choices")
                if mc is not None and (not _is_int(mc) or not 1 <= mc <= len(opts)):
                    c.fail(f"{path}.max_choices", "must be between 1 and the number of options")
                out["max_choices"] = mc
        if qtype == "percent":
            lo, hi = q.get("min", 0), q.get("max", 100)
            if not _is_int(lo) or not _is_int(hi) or not 0 <= lo < hi <= 200:
                c.fail(f"{path}.max", "min and max must be whole numbers with 0 <= min < max <= 200")
            out["min"], out["max"] = lo, hi
        if qtype == "number":
            decimals = q.get("decimals", 0)
            if not _is_int(decimals) or not 0 <= decimals <= MAX_DECIMALS:
                c.fail(f"{path}.decimals", f"must be a whole number from 0 to {MAX_DECIMALS} (digits after the point)")
                decimals = 0
            lo, hi = q.get("min"), q.get("max")
            if not decimals:
                if not _is_int(lo) or not _is_int(hi) or not 0 <= lo < hi <= NUMBER_MAX:
                    c.fail(f"{path}.max", f"a number needs min and max, whole numbers with 0 <= min < max <= {NUMBER_MAX}")
                out["min"], out["max"] = lo, hi
            else:
                # Only a number with decimals carries the field: files without it keep
                # their snapshots, and so their content hashes.
                out["decimals"] = decimals
                out["min"], out["max"] = _decimal_bound(c, f"{path}.min", lo, decimals), \
                    _decimal_bound(c, f"{path}.max", hi, decimals)
                if (out["min"] is not None and out["max"] is not None
                        and not 0 <= out["min"] < out["max"] <= NUMBER_MAX):
                    c.fail(f"{path}.max", f"min and max must hold 0 <= min < max <= {NUMBER_MAX}")
        if qtype == "rating":
            out["min"], out["max"] = 0, 10
        if qtype in TEXT_LIMITS:
            default, ceiling = TEXT_LIMITS[qtype]
            ml = q.get("max_length", default)
            if not _is_int(ml) or not 1 <= ml <= ceiling:
                c.fail(f"{path}.max_length", f"must be a whole number from 1 to {ceiling}")
                ml = default
            out["max_length"] = ml
        if "relevant" in q:
            condition = _check_relevant(c, f"{path}.relevant", q["relevant"], questions, scales)
            if condition is not None:
                out["relevant"] = condition
        questions.append(out)

    scoring = raw.get("scoring")
    scoring_out: dict[str, Any] = {}
    if not isinstance(scoring, dict):
        c.fail("scoring", "missing (a [scoring] table with a method)")
    else:
        method = scoring.get("method")
        if method not in SCORING_METHODS:
            c.fail("scoring.method", f"unknown method {method!r} (expected one of {', '.join(SCORING_METHODS)})")
        scoring_out = {"method": method}
        by_key = {q["key"]: q for q in questions if q.get("key")}
        scored = [q for q in questions if q["type"] == "scale" and (q["factor"] or not factors)]
        if method in SCORING_METHODS and not scored:
            c.fail("scoring", "no scale question counts towards the index")
        if method == "satisfied_share":
            c.unknown_keys("scoring", scoring, {"method", "rescale"})
            if "rescale" in scoring:
                rescale = _check_rescale(c, scoring["rescale"], bool(factors))
                if rescale is not None:
                    scoring_out["rescale"] = rescale
        elif method == "moh":
            c.unknown_keys("scoring", scoring, {"method", "expectation_question", "return_question", "return_options",
                                                "return_exclude"})
            eq = scoring.get("expectation_question")
            if eq is not None:
                if eq not in by_key or by_key[eq]["type"] != "percent":
                    c.fail("scoring.expectation_question", f"{eq!r} is not a percent question")
                scoring_out["expectation_question"] = eq
            rq = scoring.get("return_question")
            if rq is not None:
                if rq not in by_key or by_key[rq]["type"] != "single":
                    c.fail("scoring.return_question", f"{rq!r} is not a single-choice question")
                else:
                    ro = scoring.get("return_options")
                    keys = {o["key"] for o in by_key[rq].get("options", [])}
                    if not isinstance(ro, list) or not ro or any(o not in keys for o in ro):
                        c.fail("scoring.return_options", "must list option keys of the return question")
                    scoring_out["return_question"] = rq
                    scoring_out["return_options"] = ro
                    # Options that are neither a yes nor a no ("other"): left out of the
                    # return rate's denominator (Bộ Y tế 3869/QĐ-BYT).
                    rx = scoring.get("return_exclude", [])
                    if (not isinstance(rx, list) or any(o not in keys for o in rx)
                            or (isinstance(ro, list) and set(rx) & set(ro))):
                        c.fail("scoring.return_exclude",
                               "must list option keys of the return question that are not return options")
                    else:
                        scoring_out["return_exclude"] = rx
            elif "return_exclude" in scoring:
                c.fail("scoring.return_exclude", "needs a return_question")
        elif method == "points":
            c.unknown_keys("scoring", scoring, {"method", "max_total", "grades", "scale_to_answered"})
            # A skipped optional indicator must not count as 0 points: with
            # scale_to_answered the total is points ÷ (best points of the indicators
            # answered) × max_total (Nghị định 61/2018; INSTRUMENTS.md §2).
            sta = scoring.get("scale_to_answered", False)
            if not isinstance(sta, bool):
                c.fail("scoring.scale_to_answered", "must be true or false")
                sta = False
            scoring_out["scale_to_answered"] = sta
            for q in scored:
                sc = scales.get(q.get("scale") or "")
                if sc is not None and not sc["points"]:
                    c.fail(f"scales.{q['scale']}.points", "method 'points' needs points for every level")
            max_total = scoring.get("max_total")
            if not _is_int(max_total) or max_total <= 0:
                c.fail("scoring.max_total", "must be a positive whole number")
            scoring_out["max_total"] = max_total
            grades_out = []
            grades = scoring.get("grades", [])
            if not isinstance(grades, list):
                c.fail("scoring.grades", "must be a list of bands, highest first")
                grades = []
            last = None
            for i, g in enumerate(grades):
                gpath = f"scoring.grades[{i}]"
                if not isinstance(g, dict):
                    c.fail(gpath, "must be a table with min, vi and en")
                    continue
                c.unknown_keys(gpath, g, {"min", "strict", "vi", "en"})
                gmin = g.get("min")
                if not isinstance(gmin, (int, float)) or isinstance(gmin, bool):
                    c.fail(f"{gpath}.min", "must be a number")
                    continue
                if last is not None and gmin > last:
                    c.fail(f"{gpath}.min", "bands must be ordered highest first")
                last = gmin
                strict = g.get("strict", False)
                if not isinstance(strict, bool):
                    c.fail(f"{gpath}.strict", "must be true or false")
                labels = c.labelled(gpath, g)
                if labels:
                    grades_out.append({"min": gmin, "strict": bool(strict), **labels})
            scoring_out["grades"] = grades_out

    if c.problems:
        raise InstrumentError(c.problems, c.details)
    return {
        "schema": SCHEMA_VERSION, "key": key, "kind": kind, "title": title, "intro": intro,
        "source": source_text, "scales": scales, "factors": factors, "questions": questions,
        "scoring": scoring_out,
    }


def _decimal_bound(c: _Checker, path: str, value: Any, decimals: int) -> int | float | None:
    """A bound of a number with decimals: a number with at most ``decimals`` digits after
    the point, kept as an integer when it is whole (``100.0`` and ``100`` are one bound)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value or value in (
            float("inf"), float("-inf")):
        c.fail(path, "a number with decimals needs min and max, numbers")
        return None
    try:
        scaled(value, decimals)
    except ValueError:
        c.fail(path, f"{plain(value)} has more digits after the point than decimals = {decimals}")
        return None
    return int(value) if float(value).is_integer() else float(value)


RESCALE_TOTALS = ("sum", "mean")
RESCALE_LIMIT = 1000


def _check_rescale(c: _Checker, value: Any, has_factors: bool) -> dict[str, Any] | None:
    """``rescale = { min, max, total }``: each factor's share (0–1) is shown as
    ``min + (max − min) × share`` and the overall index as the ``sum`` of the rescaled
    factors (``F × min`` to ``F × max``) or their ``mean`` (``min`` to ``max``). A linear
    change of unit: the estimates and their intervals are the shares', rescaled."""
    path = "scoring.rescale"
    if not isinstance(value, dict):
        c.fail(path, "must be a table { min = …, max = …, total = 'sum' | 'mean' }")
        return None
    c.unknown_keys(path, value, {"min", "max", "total"})
    lo, hi = value.get("min"), value.get("max")
    ok = True
    for name, number in (("min", lo), ("max", hi)):
        if not isinstance(number, (int, float)) or isinstance(number, bool) or not math.isfinite(number) \
                or abs(number) > RESCALE_LIMIT:
            c.fail(f"{path}.{name}", f"must be a number from -{RESCALE_LIMIT} to {RESCALE_LIMIT}")
            ok = False
    if ok and not lo < hi:
        c.fail(f"{path}.max", "must be larger than min")
        ok = False
    total = value.get("total", "mean")
    if total not in RESCALE_TOTALS:
        c.fail(f"{path}.total", f"unknown total {total!r} (expected 'sum' or 'mean')")
        ok = False
    elif total == "sum" and not has_factors:
        c.fail(f"{path}.total", "a sum of factors needs [[factors]]")
        ok = False
    return {"min": lo, "max": hi, "total": total} if ok else None


def _check_relevant(c: _Checker, path: str, value: Any, earlier: list[dict[str, Any]],
                    scales: dict[str, Any]) -> str | None:
    """A question's skip condition: it parses (``services/collect/relevance.py``), reads
    only questions asked before it, and compares them with values they can have."""
    text = c.text(path, value, max_len=relevance.MAX_LENGTH)
    if not text:
        return None
    try:
        node = relevance.parse(text)
    except relevance.RelevanceError as exc:
        c.fail(path, f"cannot be read: {exc}")
        return None
    by_key = {q["key"]: q for q in earlier if q.get("key")}
    ok = True
    for atom in relevance.atoms(node):
        key = atom[2] if atom[0] == "cmp" else atom[1]
        literal = atom[3] if atom[0] == "cmp" else atom[2]
        q = by_key.get(key)
        if q is None:
            c.fail(path, f"${{{key}}} is not a question asked before this one")
            ok = False
            continue
        qtype = q["type"]
        if qtype in ("text", "longtext"):
            allowed = None
        elif qtype in ("single", "multi"):
            allowed = {o["key"] for o in q.get("options", [])}
        elif qtype == "scale":
            allowed = {str(lv["value"]) for lv in scales.get(q.get("scale") or "", {}).get("levels", [])}
        elif qtype == "yesno":
            allowed = {"0", "1"}
        elif q.get("decimals"):
            allowed = None  # checked below: a number, in range, with no more digits than the answers
        else:
            allowed = {str(v) for v in range(q.get("min", 0), q.get("max", 0) + 1)}
        numeric_op = atom[0] == "cmp" and atom[1] in (">=", "<=", ">", "<")
        if q.get("decimals") and atom[0] == "cmp" and not numeric_op:
            if isinstance(literal, str):
                c.fail(path, f"${{{key}}} is a number with decimals: compare it with a number without quotes, "
                             f"e.g. ${{{key}}} = {plain(q.get('min') or 0)}")
                ok = False
                continue
            try:
                fits = q["min"] <= literal <= q["max"] and scaled(literal, q["decimals"]) is not None
            except (TypeError, ValueError):
                fits = False
            if not fits:
                c.fail(path, f"{plain(literal)!r} is not an answer of ${{{key}}}")
                ok = False
            continue
        if numeric_op and qtype not in ("scale", "yesno", "rating", "percent", "number"):
            c.fail(path, f"${{{key}}} is not a number: compare it with = or != only")
            ok = False
        elif atom[0] == "selected" and qtype not in ("single", "multi"):
            c.fail(path, f"selected() needs a choice question; ${{{key}}} is {qtype!r}")
            ok = False
        elif atom[0] == "cmp" and qtype == "multi":
            c.fail(path, f"${{{key}}} allows several answers: use selected(${{{key}}}, '…')")
            ok = False
        elif allowed is not None and not numeric_op and str(literal) not in allowed:
            shown = literal if isinstance(literal, str) else str(literal)
            c.fail(path, f"{shown!r} is not an answer of ${{{key}}}")
            ok = False
    return text if ok else None


def parse_file(path: Path, display_name: str | None = None) -> dict[str, Any]:
    """Read and validate one instrument file."""
    name = display_name or str(path)
    data = path.read_bytes()
    return parse_bytes(data, name)


def parse_bytes(data: bytes, name: str) -> dict[str, Any]:
    if len(data) > MAX_FILE_BYTES:
        raise InstrumentError([f"{name}: file is larger than {MAX_FILE_BYTES // 1024} KB"])
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InstrumentError([f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError([f"{name}: not valid TOML: {exc}"]) from None
    return validate(raw, name)


def content_hash(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadOutcome:
    key: str
    version: int
    created: bool


def decimals_changes(session: Session, definition: dict[str, Any], source_name: str) -> list[str]:
    """The number questions whose ``decimals`` differ from an earlier version's under the
    same key. Answers are stored as value × 10^decimals, and reports add up a question's
    answers over the versions they include: 35 stored under one decimal and 35 stored as a
    whole number are not the same answer, so such a question needs a new key."""
    wanted = {(i, q["key"]): q.get("decimals", 0) for i, q in enumerate(definition["questions"])
              if q["type"] == "number"}
    if not wanted:
        return []
    earlier = session.execute(
        select(InstrumentVersion.number, InstrumentVersion.snapshot).join(Instrument)
        .where(Instrument.key == definition["key"]).order_by(InstrumentVersion.number)
    ).all()
    problems: list[str] = []
    for (i, key), decimals in wanted.items():
        for number, snapshot in earlier:
            before = next((q for q in snapshot["questions"] if q["key"] == key and q["type"] == "number"), None)
            if before is not None and before.get("decimals", 0) != decimals:
                problems.append(f"{source_name}: questions[{i}].decimals: {decimals}, but {before.get('decimals', 0)} "
                                f"in version {number}; answers are stored as value × 10^decimals, so give the "
                                f"question a new key to change its decimals")
                break
    return problems


def store(session: Session, definition: dict[str, Any], source_name: str) -> LoadOutcome:
    """Store a validated definition as a new version unless an identical one exists.

    Raises :class:`InstrumentError`, before writing anything, when a number question
    changes its ``decimals`` from an earlier version (:func:`decimals_changes`)."""
    changed = decimals_changes(session, definition, source_name)
    if changed:
        raise InstrumentError(changed)
    digest = content_hash(definition)
    instrument = session.scalar(select(Instrument).where(Instrument.key == definition["key"]))
    if instrument is None:
        instrument = Instrument(key=definition["key"])
        session.add(instrument)
        session.flush()
    existing = session.scalar(
        select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == instrument.id,
            InstrumentVersion.content_hash == digest,
        )
    )
    if existing is not None:
        return LoadOutcome(definition["key"], existing.number, created=False)
    latest = session.scalar(
        select(InstrumentVersion.number)
        .where(InstrumentVersion.instrument_id == instrument.id)
        .order_by(InstrumentVersion.number.desc())
        .limit(1)
    )
    version = InstrumentVersion(
        instrument_id=instrument.id, number=(latest or 0) + 1, content_hash=digest,
        snapshot=definition, source_name=source_name,
    )
    session.add(version)
    session.flush()
    return LoadOutcome(definition["key"], version.number, created=True)


def load_directory(session: Session, directory: Path) -> list[LoadOutcome]:
    """Validate every ``*.toml`` in ``directory``, then store them all, or nothing.

    Raises :class:`InstrumentError` with the problems of every broken file; in that case
    nothing is written.
    """
    files = sorted(directory.glob("*.toml"))
    definitions: list[tuple[dict[str, Any], str]] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in files:
        name = f"{directory.name}/{path.name}"
        try:
            definition = parse_file(path, name)
        except InstrumentError as exc:
            problems.extend(exc.problems)
            continue
        if definition["key"] in seen:
            problems.append(f"{name}: key: {definition['key']!r} is also the key of {seen[definition['key']]}")
            continue
        seen[definition["key"]] = name
        problems.extend(decimals_changes(session, definition, name))
        definitions.append((definition, name))
    if problems:
        raise InstrumentError(problems)
    outcomes = [store(session, definition, name) for definition, name in definitions]
    session.commit()
    return outcomes


def latest_version(session: Session, key: str) -> InstrumentVersion | None:
    return session.scalar(
        select(InstrumentVersion)
        .join(Instrument)
        .where(Instrument.key == key)
        .order_by(InstrumentVersion.number.desc())
        .limit(1)
    )
