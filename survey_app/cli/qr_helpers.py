"""What ``flask posters``, ``flask tokens`` and ``flask kiosks`` share.

There is no request on the command line to take the public address from, so printing
needs ``--base-url`` or the ``PUBLIC_BASE_URL`` setting (:func:`public_base_url`).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask import current_app

from ..extensions import db
from ..models import Unit
from ..services.officials.lookup import find_unit
from ..services.qr.encoding import normalize_base_url

BASE_URL_HELP = ("Public address the codes lead to, e.g. https://hailong.example.gov.vn "
                 "(default: PUBLIC_BASE_URL, else the address 'demo load --base-url' kept in instance/).")


#: The address ``flask demo load --base-url`` (what ``make run`` serves) leaves in instance/.
BASE_URL_FILE = "public_base_url"


def stored_base_url() -> str | None:
    """The address kept in ``instance/public_base_url``, if any."""
    try:
        return (Path(current_app.instance_path) / BASE_URL_FILE).read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def store_base_url(base: str) -> None:
    """Keep ``base`` (already checked) for the commands that print QR codes."""
    folder = Path(current_app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    write_file(folder / BASE_URL_FILE, (base + "\n").encode("utf-8"))


def public_base_url(explicit: str | None) -> str:
    """``--base-url``, else ``PUBLIC_BASE_URL``, else the address ``make run`` serves (kept in
    instance/ by ``flask demo load --base-url``)."""
    raw = explicit or current_app.config.get("PUBLIC_BASE_URL")
    source = "--base-url / PUBLIC_BASE_URL"
    if not raw:
        raw = stored_base_url()
        source = str(Path(current_app.instance_path) / BASE_URL_FILE)
    if not raw:
        raise click.ClickException(
            "no public address for the QR codes: pass --base-url https://… or set PUBLIC_BASE_URL "
            "(there is no web request here to take the address from; 'flask --app wsgi demo load "
            "--base-url …', which make run runs, keeps one for the demo)")
    try:
        return normalize_base_url(raw)
    except ValueError as exc:
        raise click.ClickException(f"{source}: {exc}") from None


def unit_by_ref(ref: str) -> Unit:
    unit = find_unit(db.session, ref)
    if unit is None:
        raise click.ClickException(f"no unit with the code or path {ref!r}")
    return unit


def write_file(out: Path, data: bytes) -> None:
    """Write atomically: a half-written PDF never replaces a good one."""
    out = out.expanduser()
    if not out.parent.is_dir():
        raise click.ClickException(f"{out.parent}: no such folder")
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise click.ClickException(f"{out}: {exc.strerror or exc}") from None
