"""Settings from the environment, with safe defaults.

One class reads everything; values are parsed strictly, so a typo in a setting stops the
service at start instead of being silently ignored.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Mapping

BASE_DIR = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def parse_bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def parse_int(name: str, raw: str | None, default: int, minimum: int = 0) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def parse_optional_int(name: str, raw: str | None, minimum: int, unit: str) -> int | None:
    """A whole number of ``unit`` (at least ``minimum``), or None when unset (the library's default)."""
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if not (value.isascii() and value.isdigit()):
        raise ConfigError(f"{name} must be a whole number of {unit}, not {raw!r}")
    if int(value) < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {int(value)}")
    return int(value)


def parse_base_url(name: str, raw: str | None) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash, or empty (use the request's host)."""
    from urllib.parse import urlsplit

    value = (raw or "").strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment
            or any(c.isspace() for c in value)):
        raise ConfigError(f"{name} must be a public address like https://hailong.example.gov.vn, not {raw!r}")
    return value


def parse_limits(name: str, raw: str | None, default: str) -> str:
    """A Flask-Limiter rate-limit string such as ``5 per 10 minutes;20 per day``."""
    if raw is None or raw.strip() == "":
        return default
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must look like '5 per 10 minutes;20 per day', not {raw!r}") from None
    return raw.strip()


def parse_hash_method(raw: str | None) -> str:
    """A werkzeug password-hash method: ``scrypt[:N:r:p]`` or ``pbkdf2[:sha256[:iterations]]``."""
    if raw is None or raw == "":
        return "scrypt:32768:8:1"
    parts = raw.split(":")
    ok = (parts[0] == "scrypt" and len(parts) in (1, 4) and all(p.isdigit() for p in parts[1:])) or (
        parts[0] == "pbkdf2" and len(parts) in (1, 2, 3) and (len(parts) < 3 or parts[2].isdigit()))
    if not ok:
        raise ConfigError(f"PASSWORD_HASH_METHOD must look like scrypt:32768:8:1, not {raw!r}")
    return raw


def parse_deadlines(raw: str | None) -> dict[str, int]:
    """Working-day limits per petition category: ``health=5;staff_conduct=15``."""
    from .models.petition import PETITION_CATEGORIES

    result: dict[str, int] = {}
    for part in (raw or "").replace(",", ";").split(";"):
        if not part.strip():
            continue
        name, _sep, value = part.partition("=")
        name = name.strip()
        if name not in PETITION_CATEGORIES or not value.strip().isdigit() or not 1 <= int(value) <= 365:
            raise ConfigError(f"PETITION_DEADLINES must look like 'health=5;procedure=10' with categories "
                              f"{', '.join(PETITION_CATEGORIES)}, not {raw!r}")
        result[name] = int(value)
    return result


def parse_date_list(name: str, raw: str | None) -> str:
    """Comma-separated ISO dates (``2026-08-22,2026-09-05``), checked and kept as text."""
    from datetime import date

    for part in (raw or "").split(","):
        if part.strip():
            try:
                date.fromisoformat(part.strip())
            except ValueError:
                raise ConfigError(f"{name} must list dates like 2026-08-22, separated by commas, not {raw!r}") from None
    return raw or ""


def default_sqlite_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "hailong.sqlite3")


#: Outside production, the key made once for this installation (``instance/secret_key``).
SECRET_KEY_FILE = "secret_key"


def instance_secret_key(instance_path: str | os.PathLike[str]) -> str:
    """The development key kept in ``instance/secret_key`` (mode 0600): made on first use,
    then read on every start, so logins and form tokens survive a restart, and every
    process of one installation (gunicorn's workers, the job worker, the CLI) agrees.

    Written to a temporary file and linked into place, so a process starting at the same
    moment either makes the file or reads the complete one, never half of it."""
    folder = Path(instance_path)
    target = folder / SECRET_KEY_FILE
    try:
        key = target.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    except OSError as exc:
        raise ConfigError(f"{target}: cannot read the development key ({exc.strerror or exc}); "
                          "set SECRET_KEY or remove the file") from None
    if len(key) >= 32:
        return key
    if key:
        raise ConfigError(f"{target} holds a key shorter than 32 characters; remove the file or set SECRET_KEY")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{SECRET_KEY_FILE}.", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            try:
                os.link(tmp, target)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            os.unlink(tmp)
        return target.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise ConfigError(f"{target}: cannot keep a development key there ({exc.strerror or exc}); "
                          "set SECRET_KEY") from None


def load_settings(env: Mapping[str, str], instance_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from an environment mapping.

    Without ``SECRET_KEY``: production refuses to start; elsewhere the key kept in
    ``instance_path`` (:func:`instance_secret_key`), or with no instance path a key for
    this process only."""
    production = env.get("HAILONG_ENV", env.get("FLASK_ENV", "development")) == "production"
    secret = env.get("SECRET_KEY", "")
    if production and len(secret) < 32:
        raise ConfigError(
            "SECRET_KEY must be set to a random string of at least 32 characters in production"
        )
    if not secret:
        secret = instance_secret_key(instance_path) if instance_path is not None else secrets.token_hex(32)
    storage_uri = env.get("RATELIMIT_STORAGE_URI") or "memory://"
    if storage_uri == "memory://":  # in this process: the memory storage without its timer thread
        from .ratelimit import MEMORY_URI

        storage_uri = MEMORY_URI
    settings: dict[str, Any] = {
        "PRODUCTION": production,
        # Outside production without SECRET_KEY: the installation's own key from instance/
        # (see above); no fallback secret ever lives in the code.
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # A streaming read replica for the report reads (database.py:read_session); unset:
        # everything reads the primary.
        "DATABASE_REPLICA_URL": env.get("DATABASE_REPLICA_URL", "").strip() or None,
        # The connection pool of each process (database.py:engine_options applies them; unset:
        # SQLAlchemy's 5 + 10 overflow, never recycled). Every process of every server holds up
        # to DB_POOL_SIZE + DB_MAX_OVERFLOW connections: keep the sum under max_connections.
        "DB_POOL_SIZE": parse_optional_int("DB_POOL_SIZE", env.get("DB_POOL_SIZE"), 1, "connections"),
        "DB_MAX_OVERFLOW": parse_optional_int("DB_MAX_OVERFLOW", env.get("DB_MAX_OVERFLOW"), 0, "connections"),
        "DB_POOL_RECYCLE_SECONDS": parse_optional_int("DB_POOL_RECYCLE_SECONDS", env.get("DB_POOL_RECYCLE_SECONDS"),
                                                      1, "seconds"),
        # PostgreSQL only: the server cancels a statement running longer than this (the request
        # answers 503 like an outage). Unset or 0: no limit. Ignored on SQLite.
        "DB_STATEMENT_TIMEOUT_MS": parse_optional_int("DB_STATEMENT_TIMEOUT_MS", env.get("DB_STATEMENT_TIMEOUT_MS"),
                                                      0, "milliseconds (30000 for 30 s)"),
        # A database outage answers 503 with this Retry-After (seconds).
        "DB_RETRY_AFTER_SECONDS": parse_int("DB_RETRY_AFTER_SECONDS", env.get("DB_RETRY_AFTER_SECONDS"), 5, 1),
        "MAX_CONTENT_LENGTH": parse_int("MAX_CONTENT_LENGTH", env.get("MAX_CONTENT_LENGTH"), 256 * 1024, 1024),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        "DISPLAY_TIMEZONE": "Asia/Ho_Chi_Minh",
        "WTF_CSRF_TIME_LIMIT": parse_int("WTF_CSRF_TIME_LIMIT", env.get("WTF_CSRF_TIME_LIMIT"), 6 * 3600, 60),
        # The survey page (GET) reuses this process's read of a point and its campaigns for
        # this many seconds (0: read every time); answers are always checked afresh.
        "SURVEY_PAGE_REUSE_SECONDS": parse_int("SURVEY_PAGE_REUSE_SECONDS", env.get("SURVEY_PAGE_REUSE_SECONDS"), 5, 0),
        "SURVEY_TOKEN_MAX_AGE": parse_int("SURVEY_TOKEN_MAX_AGE", env.get("SURVEY_TOKEN_MAX_AGE"), 24 * 3600, 60),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": parse_bool("PREFER_HTTPS", env.get("PREFER_HTTPS"), production),
        # Strict-Transport-Security on every response: on in production (browsers ignore it
        # over plain HTTP, so it does no harm behind a TLS proxy either).
        "HSTS": parse_bool("HSTS", env.get("HSTS"), production),
        "HSTS_MAX_AGE": parse_int("HSTS_MAX_AGE", env.get("HSTS_MAX_AGE"), 365 * 24 * 3600, 0),
        "PUBLIC_BASE_URL": parse_base_url("PUBLIC_BASE_URL", env.get("PUBLIC_BASE_URL")),
        "RATELIMIT_STORAGE_URI": storage_uri,
        # Redis down: count in this process's memory instead (Flask-Limiter logs the switch
        # once, and the switch back), never fail the request; /healthz says "degraded".
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": parse_bool(
            "RATELIMIT_IN_MEMORY_FALLBACK", env.get("RATELIMIT_IN_MEMORY_FALLBACK"), True),
        "RATELIMIT_SWALLOW_ERRORS": True,
        # A Redis that hangs costs a request at most a second before the fallback.
        "RATELIMIT_STORAGE_OPTIONS": ({"socket_connect_timeout": 1, "socket_timeout": 1}
                                      if storage_uri.startswith(("redis://", "rediss://")) else {}),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SURVEYS_DIR": env.get("SURVEYS_DIR") or str(BASE_DIR / "surveys"),
        # Abuse defence on the survey POST (Flask-Limiter strings, ';' between limits).
        "RATELIMIT_SURVEY_DEVICE": parse_limits("RATELIMIT_SURVEY_DEVICE", env.get("RATELIMIT_SURVEY_DEVICE"),
                                                "5 per 10 minutes;20 per day"),
        # The poster QR (/s) refuses only a plain flood: below these limits an answer over
        # RATELIMIT_SURVEY_DEVICE / _ADDRESS is stored and flagged suspect ("over_limit").
        "RATELIMIT_SURVEY_FLOOD_DEVICE": parse_limits("RATELIMIT_SURVEY_FLOOD_DEVICE",
                                                      env.get("RATELIMIT_SURVEY_FLOOD_DEVICE"),
                                                      "30 per 10 minutes;100 per day"),
        "RATELIMIT_SURVEY_FLOOD_ADDRESS": parse_limits("RATELIMIT_SURVEY_FLOOD_ADDRESS",
                                                       env.get("RATELIMIT_SURVEY_FLOOD_ADDRESS"),
                                                       "200 per 10 minutes;1500 per day"),
        # How many reverse proxies in front of the app set X-Forwarded-For / -Proto: the
        # client address is read that many hops back (werkzeug ProxyFix). 0 (the default):
        # the headers are ignored and the socket's address is the client's.
        "TRUSTED_PROXIES": parse_int("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES"), 0, 0),
        # The first-party random cookie that tells apart phones of one model behind one NAT.
        "DEVICE_COOKIE_MAX_AGE": parse_int("DEVICE_COOKIE_MAX_AGE", env.get("DEVICE_COOKIE_MAX_AGE"),
                                           400 * 24 * 3600, 3600),
        "RATELIMIT_SURVEY_POINT": parse_limits("RATELIMIT_SURVEY_POINT", env.get("RATELIMIT_SURVEY_POINT"),
                                               "120 per minute"),
        "RATELIMIT_CODE_ENTRY": parse_limits("RATELIMIT_CODE_ENTRY", env.get("RATELIMIT_CODE_ENTRY"),
                                             "10 per 10 minutes;50 per day"),
        # The same limits on the address alone (a client rotating its user agent is still one
        # address): higher, since people behind one NAT or office Wi-Fi share an address.
        "RATELIMIT_SURVEY_ADDRESS": parse_limits("RATELIMIT_SURVEY_ADDRESS", env.get("RATELIMIT_SURVEY_ADDRESS"),
                                                 "40 per 10 minutes;300 per day"),
        "RATELIMIT_CODE_ENTRY_ADDRESS": parse_limits("RATELIMIT_CODE_ENTRY_ADDRESS",
                                                     env.get("RATELIMIT_CODE_ENTRY_ADDRESS"),
                                                     "50 per 10 minutes;250 per day"),
        "SURVEY_MIN_FILL_SECONDS": parse_int("SURVEY_MIN_FILL_SECONDS", env.get("SURVEY_MIN_FILL_SECONDS"), 3, 0),
        "SURVEY_BURST_WINDOW_SECONDS": parse_int("SURVEY_BURST_WINDOW_SECONDS", env.get("SURVEY_BURST_WINDOW_SECONDS"), 600, 60),
        "SURVEY_BURST_DEVICE": parse_int("SURVEY_BURST_DEVICE", env.get("SURVEY_BURST_DEVICE"), 3, 2),
        "SURVEY_BURST_ADDRESS": parse_int("SURVEY_BURST_ADDRESS", env.get("SURVEY_BURST_ADDRESS"), 8, 2),
        "SURVEY_IDENTICAL_MIN": parse_int("SURVEY_IDENTICAL_MIN", env.get("SURVEY_IDENTICAL_MIN"), 8, 2),
        "SURVEY_IDENTICAL_FACTOR": parse_int("SURVEY_IDENTICAL_FACTOR", env.get("SURVEY_IDENTICAL_FACTOR"), 5, 1),
        # Kiosks: reset to the start after an answer, reload an idle half-filled form,
        # enrolment links expire, the kiosk cookie lives long (browsers cap it at 400 days).
        "KIOSK_RESET_SECONDS": parse_int("KIOSK_RESET_SECONDS", env.get("KIOSK_RESET_SECONDS"), 6, 1),
        "KIOSK_IDLE_RESET_SECONDS": parse_int("KIOSK_IDLE_RESET_SECONDS", env.get("KIOSK_IDLE_RESET_SECONDS"), 90, 30),
        "KIOSK_ENROL_MAX_AGE": parse_int("KIOSK_ENROL_MAX_AGE", env.get("KIOSK_ENROL_MAX_AGE"), 24 * 3600, 60),
        "KIOSK_COOKIE_MAX_AGE": parse_int("KIOSK_COOKIE_MAX_AGE", env.get("KIOSK_COOKIE_MAX_AGE"), 400 * 24 * 3600, 3600),
        # Officials' accounts. Password hashing: werkzeug's scrypt, N=2**15, r=8, p=1 by
        # default; tests (TESTING) use the cheap PASSWORD_HASH_METHOD_TESTING instead.
        "PASSWORD_HASH_METHOD": parse_hash_method(env.get("PASSWORD_HASH_METHOD")),
        "PASSWORD_HASH_METHOD_TESTING": "scrypt:1024:8:1",
        "SESSION_IDLE_MINUTES": parse_int("SESSION_IDLE_MINUTES", env.get("SESSION_IDLE_MINUTES"), 30, 1),
        "LOGIN_MAX_FAILURES": parse_int("LOGIN_MAX_FAILURES", env.get("LOGIN_MAX_FAILURES"), 5, 1),
        "LOGIN_LOCK_MINUTES": parse_int("LOGIN_LOCK_MINUTES", env.get("LOGIN_LOCK_MINUTES"), 15, 1),
        "LOGIN_DEVICE_LIMIT": env.get("LOGIN_DEVICE_LIMIT") or "20 per 15 minutes",
        "LOGIN_ADDRESS_LIMIT": env.get("LOGIN_ADDRESS_LIMIT") or "60 per 15 minutes",
        # Instruments are shared by the whole tree: managing them needs the role on a unit at
        # this depth or above (0 = the country, 1 = a province).
        "SHARED_ADMIN_MAX_DEPTH": parse_int("SHARED_ADMIN_MAX_DEPTH", env.get("SHARED_ADMIN_MAX_DEPTH"), 1, 0),
        # Petitions: the national portal's stage limits in working days (resolve: default and
        # per category; refuse, ask for information, publish after answering), calendar
        # overrides for government day swaps, abuse limits on the citizen form.
        "PETITION_DEADLINE_DAYS": parse_int("PETITION_DEADLINE_DAYS", env.get("PETITION_DEADLINE_DAYS"), 15, 1),
        "PETITION_REFUSE_DAYS": parse_int("PETITION_REFUSE_DAYS", env.get("PETITION_REFUSE_DAYS"), 2, 1),
        "PETITION_INFO_DAYS": parse_int("PETITION_INFO_DAYS", env.get("PETITION_INFO_DAYS"), 5, 1),
        "PETITION_PUBLISH_DAYS": parse_int("PETITION_PUBLISH_DAYS", env.get("PETITION_PUBLISH_DAYS"), 2, 1),
        "PETITION_DEADLINES": parse_deadlines(env.get("PETITION_DEADLINES")),
        "WORKDAY_EXTRA_HOLIDAYS": parse_date_list("WORKDAY_EXTRA_HOLIDAYS", env.get("WORKDAY_EXTRA_HOLIDAYS")),
        "WORKDAY_EXTRA_WORKING_DAYS": parse_date_list("WORKDAY_EXTRA_WORKING_DAYS", env.get("WORKDAY_EXTRA_WORKING_DAYS")),
        "PETITION_TEXT_MAX": parse_int("PETITION_TEXT_MAX", env.get("PETITION_TEXT_MAX"), 4000, 100),
        "PETITION_PHOTO_MAX_BYTES": parse_int("PETITION_PHOTO_MAX_BYTES", env.get("PETITION_PHOTO_MAX_BYTES"),
                                              5 * 1024 * 1024, 10 * 1024),
        "PETITION_PHOTO_MAX_SIDE": parse_int("PETITION_PHOTO_MAX_SIDE", env.get("PETITION_PHOTO_MAX_SIDE"), 1600, 200),
        "RATELIMIT_PETITION_DEVICE": parse_limits("RATELIMIT_PETITION_DEVICE", env.get("RATELIMIT_PETITION_DEVICE"),
                                                  "3 per 10 minutes;10 per day"),
        "RATELIMIT_TRACKING_LOOKUP": parse_limits("RATELIMIT_TRACKING_LOOKUP", env.get("RATELIMIT_TRACKING_LOOKUP"),
                                                  "30 per 10 minutes;200 per day"),
        "RATELIMIT_PETITION_ADDRESS": parse_limits("RATELIMIT_PETITION_ADDRESS", env.get("RATELIMIT_PETITION_ADDRESS"),
                                                   "15 per 10 minutes;50 per day"),
        "RATELIMIT_TRACKING_LOOKUP_ADDRESS": parse_limits("RATELIMIT_TRACKING_LOOKUP_ADDRESS",
                                                          env.get("RATELIMIT_TRACKING_LOOKUP_ADDRESS"),
                                                          "100 per 10 minutes;600 per day"),
        # Compression (Flask-Compress; which responses, and why not an official's: compression.py).
        # Brotli where the client accepts it (browsers do over HTTPS), else gzip; no zstd or
        # deflate (no gain at our sizes; deflate is ambiguous in old clients). Streamed
        # responses (the static files) the same.
        "COMPRESS_REGISTER": False,  # compression.py runs it after deciding
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/plain", "text/csv", "text/javascript",
                               "application/javascript", "application/json", "image/svg+xml"],
        "COMPRESS_MIN_SIZE": parse_int("COMPRESS_MIN_SIZE", env.get("COMPRESS_MIN_SIZE"), 500, 0),
        "COMPRESS_LEVEL": 6,     # gzip
        # Brotli 0–11. The survey page: 5 gives 1,983 B in under 1 ms (gzip 9: 2,262 B);
        # 11 gives 1,799 B but takes about 20 ms a page.
        "COMPRESS_BR_LEVEL": 5,
        # Static files answer 304 to a matching If-None-Match even when compressed.
        "COMPRESS_STREAMING_ENDPOINT_CONDITIONAL": ["static", "petitions.static"],
        # Static files requested without their content hash (static_files.py) are cached this
        # long (seconds); with it, a year and immutable.
        "STATIC_MAX_AGE": parse_int("STATIC_MAX_AGE", env.get("STATIC_MAX_AGE"), 300, 0),
        # Background jobs (survey_app/jobs.py, Huey): a SQLite file in instance/ by default,
        # Redis when HUEY_REDIS_URL is set (several app servers, separate workers).
        # HUEY_IMMEDIATE runs each job at once in the caller (tests, one-off scripts).
        "HUEY_REDIS_URL": env.get("HUEY_REDIS_URL", "").strip(),
        # The queue's name (its keys in Redis, its rows in SQLite): two services, or two test
        # runs, on one Redis keep apart by name.
        "HUEY_NAME": env.get("HUEY_NAME", "").strip() or "hailong",
        "HUEY_SQLITE_PATH": env.get("HUEY_SQLITE_PATH", "").strip(),
        "HUEY_IMMEDIATE": parse_bool("HUEY_IMMEDIATE", env.get("HUEY_IMMEDIATE"), False),
        "HUEY_WORKERS": parse_int("HUEY_WORKERS", env.get("HUEY_WORKERS"), 2, 1),
        # Alerts: evaluated every ALERTS_EVERY_MINUTES by the worker (1–60, a divisor of 60
        # keeps the schedule regular).
        "ALERTS_EVERY_MINUTES": parse_int("ALERTS_EVERY_MINUTES", env.get("ALERTS_EVERY_MINUTES"), 15, 1),
        # E-mail through SMTP. No MAIL_SERVER: alerts are shown in the inbox only.
        "MAIL_SERVER": env.get("MAIL_SERVER", "").strip(),
        "MAIL_PORT": parse_int("MAIL_PORT", env.get("MAIL_PORT"), 25, 1),
        "MAIL_USE_TLS": parse_bool("MAIL_USE_TLS", env.get("MAIL_USE_TLS"), False),  # STARTTLS
        "MAIL_USE_SSL": parse_bool("MAIL_USE_SSL", env.get("MAIL_USE_SSL"), False),  # TLS from the start (465)
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "").strip() or "hailong@localhost",
        "MAIL_TIMEOUT": parse_int("MAIL_TIMEOUT", env.get("MAIL_TIMEOUT"), 10, 1),
        # A failed delivery is retried MAIL_RETRIES times, the first after MAIL_RETRY_DELAY
        # seconds, each wait twice the one before (60 s, 2 min, 4 min, …).
        "MAIL_RETRIES": parse_int("MAIL_RETRIES", env.get("MAIL_RETRIES"), 6, 0),
        "MAIL_RETRY_DELAY": parse_int("MAIL_RETRY_DELAY", env.get("MAIL_RETRY_DELAY"), 60, 1),
        # Reports never wait on a long catch-up: a request rolls up at most ROLLUP_REQUEST_MAX
        # pending responses itself; a longer backlog is left to the every-minute job and the
        # report says how many responses it does not count yet.
        "ROLLUP_REQUEST_MAX": parse_int("ROLLUP_REQUEST_MAX", env.get("ROLLUP_REQUEST_MAX"), 5000, 0),
        # Exports reading more responses than this (PDFs: than PDF_INLINE_MAX_RESPONSES) are
        # built by the worker (job build_export): the official gets a "being prepared" page and
        # the file under instance/exports/, kept EXPORT_KEEP_HOURS, then purged by retention.
        "EXPORT_INLINE_MAX_RESPONSES": parse_int("EXPORT_INLINE_MAX_RESPONSES",
                                                 env.get("EXPORT_INLINE_MAX_RESPONSES"), 20000, 0),
        "PDF_INLINE_MAX_RESPONSES": parse_int("PDF_INLINE_MAX_RESPONSES", env.get("PDF_INLINE_MAX_RESPONSES"),
                                              50000, 0),
        # A directory every worker and app server reaches (several hosts: a shared mount).
        "EXPORT_DIR": env.get("EXPORT_DIR", "").strip() or None,
        "EXPORT_KEEP_HOURS": parse_int("EXPORT_KEEP_HOURS", env.get("EXPORT_KEEP_HOURS"), 48, 1),
        "EXPORT_RETRIES": parse_int("EXPORT_RETRIES", env.get("EXPORT_RETRIES"), 3, 0),
        "EXPORT_RETRY_DELAY": parse_int("EXPORT_RETRY_DELAY", env.get("EXPORT_RETRY_DELAY"), 30, 1),
        # Retention (services/data/retention.py, docs/PRIVACY.md), run daily by the worker at
        # RETENTION_HOUR_UTC (20 = 03:00 in Viet Nam): keyed device hashes kept for their day
        # plus this margin; petition contacts this long after the answer or closing.
        "RETENTION_HASH_MARGIN_DAYS": parse_int("RETENTION_HASH_MARGIN_DAYS", env.get("RETENTION_HASH_MARGIN_DAYS"), 1, 0),
        "RETENTION_CONTACT_DAYS": parse_int("RETENTION_CONTACT_DAYS", env.get("RETENTION_CONTACT_DAYS"), 365, 1),
        "RETENTION_HOUR_UTC": parse_int("RETENTION_HOUR_UTC", env.get("RETENTION_HOUR_UTC"), 20, 0),
        # PostgreSQL's monthly partitions of response and answer (services/data/partitions.py):
        # the daily job keeps this month's and PARTITION_MONTHS_AHEAD more ready.
        "PARTITION_MONTHS_AHEAD": parse_int("PARTITION_MONTHS_AHEAD", env.get("PARTITION_MONTHS_AHEAD"), 2, 0),
        # Whole months of responses kept (unset: kept for ever); older monthly partitions are
        # archived to RESPONSE_ARCHIVE_DIR (required with it) and dropped (docs/PRIVACY.md).
        "RESPONSE_KEEP_MONTHS": parse_optional_int("RESPONSE_KEEP_MONTHS", env.get("RESPONSE_KEEP_MONTHS"), 1, "months"),
        "RESPONSE_ARCHIVE_DIR": env.get("RESPONSE_ARCHIVE_DIR", "").strip(),
        # Blueprint names whose every view needs a logged-in official and a declared role;
        # an OfficialBlueprint adds its own name when it is registered.
        "OFFICIAL_BLUEPRINTS": [],
    }
    return settings
