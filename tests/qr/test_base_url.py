"""The public address on the command line: ``--base-url``, else ``PUBLIC_BASE_URL``, else the
one ``flask demo load --base-url`` (what ``make run`` serves) kept in instance/."""
from __future__ import annotations

from pathlib import Path

from survey_app.extensions import db


def kept(app) -> Path:
    return Path(app.instance_path) / "public_base_url"


def test_demo_load_keeps_its_address_for_the_qr_commands(demo_app):
    runner = demo_app.test_cli_runner()
    assert not kept(demo_app).exists()
    result = runner.invoke(args=["kiosks", "enrol", "--unit", "p2motcua"])
    assert result.exit_code == 1 and "pass --base-url https://… or set PUBLIC_BASE_URL" in result.output
    assert "demo load" in result.output

    result = runner.invoke(args=["demo", "load", "--no-history", "--base-url", "http://127.0.0.1:5077/"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5077/s/p2motcua" in result.output
    assert kept(demo_app).read_text() == "http://127.0.0.1:5077\n"
    result = runner.invoke(args=["kiosks", "enrol", "--unit", "p2motcua"])
    assert result.exit_code == 0, result.output
    assert "  http://127.0.0.1:5077/k/enrol/" in result.output

    # PUBLIC_BASE_URL, and --base-url, come before the kept address.
    demo_app.config["PUBLIC_BASE_URL"] = "https://hailong.example.gov.vn"
    result = runner.invoke(args=["kiosks", "enrol", "--unit", "p2motcua"])
    assert "  https://hailong.example.gov.vn/k/enrol/" in result.output
    result = runner.invoke(args=["kiosks", "enrol", "--unit", "p2motcua", "--base-url", "https://x.example.vn"])
    assert "  https://x.example.vn/k/enrol/" in result.output
    demo_app.config["PUBLIC_BASE_URL"] = ""

    # demo load without --base-url keeps (and prints) the address it has.
    result = runner.invoke(args=["demo", "load", "--no-history"])
    assert result.exit_code == 0 and "http://127.0.0.1:5077/s/p2motcua" in result.output
    assert kept(demo_app).read_text() == "http://127.0.0.1:5077\n"
    result = runner.invoke(args=["demo", "load", "--no-history", "--base-url", "ftp://nope"])
    assert result.exit_code == 1 and "--base-url" in result.output and "is not a public base URL" in result.output
    assert kept(demo_app).read_text() == "http://127.0.0.1:5077\n"

    kept(demo_app).write_text("not a url\n")  # edited by hand: named in the error
    result = runner.invoke(args=["kiosks", "enrol", "--unit", "p2motcua"])
    assert result.exit_code == 1 and "public_base_url" in result.output and "'not a url'" in result.output
    db.session.rollback()


def test_a_first_demo_load_keeps_the_default_address(demo_app):
    result = demo_app.test_cli_runner().invoke(args=["demo", "load", "--no-history"])
    assert result.exit_code == 0, result.output
    assert kept(demo_app).read_text() == "http://127.0.0.1:5000\n"
    assert "http://127.0.0.1:5000/login" in result.output
