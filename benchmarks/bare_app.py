"""The bare app of ``benchmarks/submit.py``: the essential work of a survey submission and
nothing else, written the plain way with Flask and SQLAlchemy Core.

- ``GET /s/<code>``: the SIPAS questions (read from ``surveys/sipas.toml`` at start) as an
  HTML form, rendered per request by a Jinja template;
- ``POST /s/<code>``: parse the form, check each answer against the questions, insert the
  response and its answers in one transaction, redirect (303) to a thank-you address.

No sessions, CSRF, form tokens, rate limits, translations or trust checks: it is the
yardstick the real app is compared with. Its tables (``bare_response``, ``bare_answer``)
live in the database of ``BARE_DATABASE_URL``; :func:`create_tables` makes them (the
benchmark calls it once before starting the workers). Run under gunicorn like the real
app: ``BARE_DATABASE_URL=sqlite:////tmp/x.sqlite3 gunicorn -w 2 bare_app:app``.
"""
from __future__ import annotations

import os
import secrets
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, abort, redirect, request

ROOT = Path(__file__).resolve().parent.parent

metadata = sa.MetaData()
bare_response = sa.Table(
    "bare_response", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("submitted_at", sa.DateTime, nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
)
bare_answer = sa.Table(
    "bare_answer", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("response_id", sa.ForeignKey("bare_response.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("question_key", sa.String(32), nullable=False),
    sa.Column("value_int", sa.Integer),
    sa.Column("value_text", sa.Text),
)

FORM = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title></head><body><main>
<h1>{{ title }}</h1>
<form method="post" action="/s/{{ code }}">
{% for q in questions %}<fieldset><legend>{{ loop.index }}. {{ q.text.vi }}</legend>
{% if q.type == 'scale' %}{% for lv in scales[q.scale].levels %}<label><input type="radio" name="q_{{ q.key }}" value="{{ lv.value }}">{{ lv.vi }}</label>{% endfor %}
{% else %}<textarea name="q_{{ q.key }}" rows="4" maxlength="{{ q.get('max_length', 2000) }}"></textarea>{% endif %}
</fieldset>
{% endfor %}<button type="submit">Gửi</button>
</form></main></body></html>"""


def _engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn, _record):  # what the real app sets on SQLite too
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA journal_mode=WAL")
    return engine


def create_tables(url: str) -> None:
    engine = _engine(url)
    metadata.create_all(engine)
    engine.dispose()


def create_app() -> Flask:
    definition = tomllib.loads((ROOT / "surveys" / "sipas.toml").read_text(encoding="utf-8"))
    questions = definition["questions"]
    allowed = {q["key"]: ({lv["value"] for lv in definition["scales"][q["scale"]]["levels"]}
                          if q["type"] == "scale" else None) for q in questions}
    engine = _engine(os.environ["BARE_DATABASE_URL"])
    app = Flask(__name__)
    form = app.jinja_env.from_string(FORM)  # compiled once, rendered per request

    @app.get("/s/<code>")
    def survey(code: str):
        return form.render(title=definition["title"]["vi"], code=code, questions=questions,
                           scales=definition["scales"])

    @app.post("/s/<code>")
    def submit(code: str):
        rows = []
        for key, levels in allowed.items():
            raw = request.form.get("q_" + key, "").strip()
            if not raw:
                continue
            if levels is None:
                rows.append((key, None, raw[:2000]))
            elif raw.isdigit() and int(raw) in levels:
                rows.append((key, int(raw), None))
            else:
                abort(422)
        with engine.begin() as conn:
            response_id = conn.execute(
                bare_response.insert().values(code=code[:16], submitted_at=datetime.now(timezone.utc).replace(tzinfo=None),
                                              idempotency_key=secrets.token_hex(16))
                .returning(bare_response.c.id)).scalar_one()
            if rows:
                conn.execute(bare_answer.insert(), [
                    {"response_id": response_id, "question_key": k, "value_int": vi, "value_text": vt}
                    for k, vi, vt in rows])
        return redirect(f"/s/{code}/thanks", code=303)

    return app


app = create_app() if os.environ.get("BARE_DATABASE_URL") else None
