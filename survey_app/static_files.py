"""Static files cached by their content.

``url_for('static', filename='site.css')`` (and ``url_for('<blueprint>.static', …)``) gives
``/static/site.css?v=<hash>``, where the hash is the first 16 hex digits of the file's
SHA-256. A request carrying the file's current hash is answered with
``Cache-Control: public, max-age=31536000, immutable``: the browser keeps the file for a
year and does not even revalidate it on a reload. A changed file has another hash, so
every page rendered after the next start links to a new URL and no browser keeps the old
copy. A request without ``v``, or with a hash that is not the file's (a page rendered
before a deploy), gets the file with the short ``STATIC_MAX_AGE`` instead, so a new file
is never cached for a year under an old name.

The hashes are computed once, in ``init_app``, which the app factory calls after every
blueprint is registered: each file under the app's and every blueprint's static folder is
read once. Nothing happens at import. A file added or edited while the service runs keeps
its start-time hash (or none) until the next start, which is when a deploy changes files.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_DIGITS = 16  # 64 bits of SHA-256: two versions of one file never share a URL in practice


def file_hash(path: Path) -> str:
    """The version of one file: the first ``HASH_DIGITS`` hex digits of its SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_DIGITS]


def folder_hashes(folder: str | Path | None) -> dict[str, str]:
    """``{filename: hash}`` for every file under ``folder``, by the ``filename`` that
    ``url_for`` is given (relative, with ``/``); empty if the folder is not there."""
    if not folder or not Path(folder).is_dir():
        return {}
    root = Path(folder)
    return {path.relative_to(root).as_posix(): file_hash(path)
            for path in sorted(root.rglob("*")) if path.is_file()}


def static_hashes(app: Flask) -> dict[str, dict[str, str]]:
    """``{static endpoint: {filename: hash}}`` for the app and each registered blueprint."""
    endpoints = {"static": app.static_folder} if app.has_static_folder else {}
    for name, blueprint in app.blueprints.items():
        if blueprint.has_static_folder:
            endpoints[f"{name}.static"] = blueprint.static_folder
    return {endpoint: folder_hashes(folder) for endpoint, folder in endpoints.items()
            if endpoint in app.view_functions}


def init_app(app: Flask) -> None:
    """Hash the static files and wire the URLs and the cache headers. Call it last."""
    hashes = app.extensions["hailong.static_hashes"] = static_hashes(app)
    short = f"public, max-age={app.config['STATIC_MAX_AGE']}"

    @app.url_defaults
    def add_content_hash(endpoint: str, values: dict) -> None:
        files = hashes.get(endpoint)
        if files is not None and "v" not in values:
            digest = files.get(values.get("filename"))
            if digest:
                values["v"] = digest

    @app.after_request
    def cache_static_files(response):
        files = hashes.get(request.endpoint)
        if files is None or response.status_code not in (200, 206, 304):
            return response
        digest = files.get((request.view_args or {}).get("filename"))
        response.headers["Cache-Control"] = IMMUTABLE if digest and request.args.get("v") == digest else short
        return response
