"""Hài Lòng: citizens' satisfaction with public services, collected through QR codes."""
from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask

from .config import default_sqlite_url, load_settings

SUBRESOURCE_TYPES = frozenset({"text/css", "text/javascript", "application/javascript"})


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, CLI. No I/O beyond that."""
    app = Flask(__name__, instance_relative_config=False, instance_path=(config or {}).get("INSTANCE_PATH"))
    # A key given in ``config`` (the tests) needs none from instance/secret_key.
    keyed = bool((config or {}).get("SECRET_KEY"))
    app.config.update(load_settings(os.environ, instance_path=None if keyed else app.instance_path))
    if config:
        app.config.update(config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = default_sqlite_url(app.instance_path)
    if app.config.get("TRUSTED_PROXIES"):  # the client address behind that many proxies
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    from . import cli, compression, errors, i18n, inputs, jobs, signing, static_files
    from .database import init_database, init_replica
    from .extensions import csrf, db, limiter, migrate

    init_database(app)
    init_replica(app)
    from .services.collect import surveys

    surveys.watch_changes()  # an official's edit of a point or campaign: the kept reads are dropped
    inputs.init_app(app)  # first: control characters in the address or a form end in a 400
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    signing.init_app(app)  # after csrf: the session cookie and csrf_token() without the zlib attempt on small payloads
    limiter.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    jobs.init_app(app)  # the job queue (Huey), built on first use

    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    from .petitions import bp as petitions_bp  # citizens' petitions: /f (feedback), /t (tracking)

    app.register_blueprint(petitions_bp)

    # Officials: login (auth), then every OfficialBlueprint (admin, …): each adds its
    # name to OFFICIAL_BLUEPRINTS and refuses views that declare no role.
    from . import auth
    from .admin import bp as admin_bp
    from .guard import check_official_routes

    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin_bp)
    from .petitions_admin import bp as petitions_admin_bp  # the officials' petition inbox

    app.register_blueprint(petitions_admin_bp)
    from .alerts_admin import bp as alerts_admin_bp  # the officials' alert inbox and rules

    app.register_blueprint(alerts_admin_bp)
    from .jobs_admin import bp as jobs_admin_bp  # the background jobs and their failures (admins)

    app.register_blueprint(jobs_admin_bp)
    # Reading and publishing results: reports (officials), the JSON API (session or API key), public results (/p/…).
    from .api import bp as api_bp
    from .public_results import bp as public_results_bp
    from .reports import bp as reports_bp

    app.register_blueprint(reports_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(public_results_bp)
    cli.init_app(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Not on a stylesheet or a script: these govern documents and do nothing there, and
        # they would be some 250 bytes of every phone's first visit (tests/test_page_weight.py).
        if response.mimetype not in SUBRESOURCE_TYPES:
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            )
        if app.config["HSTS"]:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_MAX_AGE']}")
        return response

    compression.init_app(app)  # brotli or gzip, but never an official's page (BREACH: compression.py)
    static_files.init_app(app)  # after every blueprint: hashes each static folder once, for url_for
    check_official_routes(app)  # last: refuses to start if an official view declares no role
    return app
