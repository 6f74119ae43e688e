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

BASE_URL_HELP = "Public address the codes lead to, e.g. https://hailong.example.gov.vn (default: PUBLIC_BASE_URL)."


def public_base_url(explicit: str | None) -> str:
    raw = explicit or current_app.config.get("PUBLIC_BASE_URL")
    if not raw:
        raise click.ClickException(
            "no public address for the QR codes: pass --base-url https://… or set PUBLIC_BASE_URL "
            "(there is no web request here to take the address from)")
    try:
        return normalize_base_url(raw)
    except ValueError as exc:
        raise click.ClickException(f"--base-url / PUBLIC_BASE_URL: {exc}") from None


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
