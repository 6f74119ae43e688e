"""Every command in README.md runs as written on a fresh demo.

The test takes every ``flask --app wsgi …`` (or ``.venv/bin/flask …``) command from the
README's fenced code blocks and from its inline code, builds the demo as ``make run`` does
(the Makefile's own ``run`` recipe: migrations, instruments, demo with its history), and
runs the commands in the README's order in a temporary folder, each expected to exit 0.
Whatever else a code block holds must be in :data:`NOT_RUN`, with the reason; so must a
command that cannot run here (a server, a worker). The files the README's commands read
(a lineage mapping, a one-stop export, typed-in paper forms) are made first, as a reader
would make theirs (:func:`prepare_inputs`).
"""
from __future__ import annotations

import csv
import re
import shlex
from pathlib import Path

import pytest

from conftest import ROOT
from helpers import full_answers
from survey_app.extensions import db

FLASK = re.compile(r"(?:\.venv/bin/)?flask --app wsgi\b")

#: Lines of the README's code blocks that are not run here, each with why.
NOT_RUN = {
    "make run": "serves until stopped; the test runs its recipe's commands itself (make_run_commands)",
    "make test": "runs the whole suite, this test included",
    "flask --app wsgi jobs worker": "a worker that runs until stopped (tests/alerts/test_worker.py runs one)",
    "curl": "talks to a running server; the dossier API is tested in tests/dossiers",
}
#: What an interactive command reads from its standard input.
STDIN = {"users create": "mật khẩu dài của README\nmật khẩu dài của README\n"}


def readme_commands(text: str) -> list[tuple[str, list[str]]]:
    """``(line as written, flask arguments)`` in the README's order, from the code blocks
    and the inline code; the other lines of code blocks must match :data:`NOT_RUN`."""
    found: list[tuple[int, str, list[str]]] = []
    for block in re.finditer(r"^```\w*\n(.*?)^```", text, re.S | re.M):
        body = re.sub(r"\\\n\s*", " ", block.group(1))  # continued lines
        for number, line in enumerate(body.splitlines()):
            line = line.strip()
            if not line or line.startswith("#") or line.startswith('"'):  # comments, a continued JSON body
                continue
            match = FLASK.search(line)
            if match is None or any(line.startswith(skip) for skip in NOT_RUN):
                assert any(line.startswith(skip) for skip in NOT_RUN), f"README runs {line!r}: add it to NOT_RUN?"
                continue
            found.append((block.start() + number, line, _arguments(line[match.end():])))
    masked = re.sub(r"^```.*?^```", lambda m: " " * len(m.group(0)), text, flags=re.S | re.M)
    for inline in re.finditer(r"`([^`]+)`", masked):
        span = " ".join(inline.group(1).split())
        match = FLASK.match(span)
        if match is None or any(span.startswith(skip) for skip in NOT_RUN):
            continue
        found.append((inline.start(), span, _arguments(span[match.end():])))
    return [(line, args) for _offset, line, args in sorted(found, key=lambda item: item[0])]


def _arguments(rest: str) -> list[str]:
    """The flask arguments of a shell line: up to a pipe, without the comment or a
    closing ``)`` of ``$(…)``."""
    words = shlex.split(rest, comments=True)
    if "|" in words:
        words = words[:words.index("|")]
    if words and words[-1].endswith(")"):
        words[-1] = words[-1][:-1]
    return [w for w in words if w]


def make_run_commands() -> list[list[str]]:
    """The flask commands of the Makefile's ``run`` recipe (the port as ``make run`` has it)."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*?\n((?:\t.*\n)+)", makefile, re.M).group(1)
    commands = []
    for line in recipe.splitlines():
        line = line.strip()
        if line.startswith("$(BIN)/flask --app wsgi") and "jobs worker" not in line:
            commands.append(shlex.split(line.replace("$(PORT)", "5000"))[3:])
    return commands


def prepare_inputs(folder: Path) -> None:
    """The files the README's commands read, as a reader would have them."""
    from survey_app.models import Campaign

    (folder / "mapping.csv").write_text(
        "predecessor,successor,effective_on,change,share\n/vn/qt/hai-le/,19360,2025-07-01,merger,\n", encoding="utf-8")
    with (folder / "export.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "procedure_code", "procedure_name", "sector", "service_point", "received_at",
                         "due_at", "returned_at", "status"])
        writer.writerow(["000.00.27.H56-260302-0002", "1.001193", "Đăng ký khai sinh", "Hộ tịch", "p2motcua",
                         "2026-03-02T08:30", "2026-03-03T17:00", "2026-03-03T09:00", "returned"])
    from openpyxl import Workbook

    campaign = db.session.get(Campaign, 4)  # the README's paper forms: SIPAS at p2motcua
    answers = {key.removeprefix("q_"): value for key, value in full_answers(campaign.instrument_version.snapshot).items()}
    book = Workbook()
    sheet = book.active
    sheet.append(["unit", "submitted_at", *answers])
    sheet.append(["p2motcua", "05/03/2026", *answers.values()])
    book.save(folder / "forms.xlsx")


def test_the_readme_lists_its_commands():
    commands = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    lines = [line for line, _args in commands]
    assert len(commands) >= 25, lines  # the extraction finds them (29 today)
    for needed in ("flask --app wsgi campaigns list", "flask --app wsgi tokens issue", "flask --app wsgi kiosks enrol",
                   "flask --app wsgi responses import"):
        assert any(line.startswith(needed) for line in lines), needed
    assert make_run_commands() == [["db", "upgrade", "heads"], ["instruments", "load"],
                                   ["demo", "load", "--base-url", "http://127.0.0.1:5000"]]


def test_every_readme_command_runs_on_a_fresh_demo(empty_app, tmp_path, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    empty_app.config["PUBLIC_BASE_URL"] = ""
    runner = empty_app.test_cli_runner()
    for args in make_run_commands():
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    folder = tmp_path / "work"
    folder.mkdir()
    prepare_inputs(folder)
    monkeypatch.chdir(folder)
    failed = []
    for line, args in readme_commands((ROOT / "README.md").read_text(encoding="utf-8")):
        stdin = next((text for prefix, text in STDIN.items() if " ".join(args).startswith(prefix)), None)
        result = runner.invoke(args=args, input=stdin)
        db.session.rollback()
        if result.exit_code != 0:
            failed.append(f"{line}\n    → exit {result.exit_code}: {result.output.strip()[-400:]}")
    assert not failed, "README commands that fail on the demo:\n" + "\n".join(failed)
    # What the commands wrote landed in the folder they ran in.
    assert {"posters-p2.pdf", "tent.pdf", "slips.pdf", "codes.csv", "sipas.xlsx"} <= {p.name for p in folder.iterdir()}
