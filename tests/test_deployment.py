"""What the deployment adds around the app: HSTS in production, and an access log that
never records one-time codes, tracking codes or kiosk secrets (gunicorn.conf.py, as
``make run`` uses it)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT
from survey_app import create_app
from survey_app.accesslog import redact
from survey_app.config import load_settings

SECRETS = ["K7QM-3XDA-9F2P-HW8T", "7K3QM-XD9FP", "enrolsecret-4f1c2d9e"]


def test_hsts_is_on_in_production_and_off_elsewhere():
    assert load_settings({"HAILONG_ENV": "production", "SECRET_KEY": "k" * 32})["HSTS"] is True
    assert load_settings({})["HSTS"] is False
    assert load_settings({"HSTS": "1", "HSTS_MAX_AGE": "600"})["HSTS_MAX_AGE"] == 600
    on = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "HSTS": True})
    with on.test_client().get("/") as response:
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    off = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    with off.test_client().get("/") as response:
        assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("text, expected", [
    ("GET /v/K7QM-3XDA-9F2P-HW8T HTTP/1.1", "GET /v/[redacted] HTTP/1.1"),
    ("POST /v/K7QM3XDA9F2PHW8T?lang=en HTTP/1.1", "POST /v/[redacted]?lang=en HTTP/1.1"),
    ("/v?code=K7QM-3XDA", "/v?code=[redacted]"),
    ("/t/7K3QM-XD9FP?new=1&lang=vi", "/t/[redacted]?new=1&lang=vi"),
    ("/t?lang=vi&code=7K3QM-XD9FP", "/t?lang=vi&code=[redacted]"),
    ("https://hailong.example.gov.vn/k/enrol/abc123/", "https://hailong.example.gov.vn/k/enrol/[redacted]/"),
    ("POST /u/MTIz.Xk9aQ2 HTTP/1.1", "POST /u/[redacted] HTTP/1.1"),  # stops a petitioner's e-mails
    ("/s/p2motcua?lang=vi", "/s/p2motcua?lang=vi"),  # a poster's code is public
    ("/k/p2motcua", "/k/p2motcua"),
    ("/t", "/t"),
])
def test_redact(text, expected):
    assert redact(text) == expected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_gunicorn_access_log_carries_no_code(tmp_path):
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    if not os.path.exists(gunicorn):
        pytest.skip("gunicorn is not installed next to this Python")
    port = _free_port()
    env = {**os.environ, "SECRET_KEY": "s" * 40, "DATABASE_URL": f"sqlite:///{tmp_path / 'log.sqlite3'}"}
    server = subprocess.Popen([gunicorn, "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        paths = [f"/v/{SECRETS[0]}?lang=vi", f"/v?code={SECRETS[0]}", f"/t/{SECRETS[1]}?new=1", f"/t?code={SECRETS[1]}",
                 f"/k/enrol/{SECRETS[2]}", "/s/p2motcua"]
        for path in paths:
            request = urllib.request.Request(base + path, headers={"Referer": f"{base}/v/{SECRETS[0]}/thanks"})
            try:
                urllib.request.urlopen(request, timeout=5).close()
            except urllib.error.HTTPError:
                pass  # 404/503 on an empty database: what matters is the log line
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    log = out.decode("utf-8", "replace")
    assert log.count('"GET ') >= len(paths) + 1, (log, err.decode()[-2000:])
    for secret in SECRETS:
        assert secret not in log and secret.replace("-", "") not in log
    assert "GET /v/[redacted]?lang=vi HTTP/1.1" in log and "/t/[redacted]?new=1" in log
    assert "/k/enrol/[redacted]" in log and "/s/p2motcua" in log


def test_a_development_key_is_kept_in_instance_across_restarts_and_production_needs_its_own(tmp_path, monkeypatch):
    from survey_app.config import ConfigError

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("HAILONG_ENV", raising=False)
    monkeypatch.delenv("FLASK_ENV", raising=False)
    settings = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")}
    first = create_app(settings)
    kept = tmp_path / "instance" / "secret_key"
    assert kept.is_file() and (kept.stat().st_mode & 0o777) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 32 and kept.read_text().strip() == first.config["SECRET_KEY"]
    again = create_app(settings)  # a restart: the same key, so sessions and form tokens survive
    assert again.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    other = create_app({**settings, "INSTANCE_PATH": str(tmp_path / "elsewhere")})
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["secret_key"]  # no temporary file left
    # SECRET_KEY wins over the kept key; production never falls back to one.
    monkeypatch.setenv("SECRET_KEY", "e" * 40)
    assert create_app(settings).config["SECRET_KEY"] == "e" * 40
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setenv("HAILONG_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(settings)
    kept.write_text("short\n")
    monkeypatch.delenv("HAILONG_ENV")
    with pytest.raises(ConfigError, match="shorter than 32"):
        create_app(settings)


def test_make_run_no_longer_makes_a_new_key_on_each_run():
    makefile = (ROOT / "Makefile").read_text()
    assert "SECRET_KEY ?=" not in makefile and "export SECRET_KEY" not in makefile
