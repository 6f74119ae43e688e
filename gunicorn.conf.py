"""Gunicorn settings for ``make run`` (``gunicorn -c gunicorn.conf.py wsgi:app``).

The bind address stays on the command line (the Makefile's ``PORT``). The access log goes
to standard output through ``survey_app.accesslog.RedactingLogger``: one-time codes,
tracking codes and kiosk enrolment secrets never reach it.

Each rate limit must be counted once, not once per worker process. So the shape of the
server follows where the limits are counted:

- ``RATELIMIT_STORAGE_URI`` names a shared storage (Redis): 2 worker processes, both
  counting in it;
- else, if ``RATELIMIT_TRY_REDIS`` names a Redis that answers a PING now (``make run`` sets
  it to ``redis://127.0.0.1:6379/0``), that Redis becomes ``RATELIMIT_STORAGE_URI`` for the
  workers, and there are 2 of them;
- else the limits are counted in memory, and one worker process serves with 4 threads, so
  one counter sees every request.

The choice is logged at start. (Should Redis go away later, each process counts in its own
memory until it is back: see ``survey_app/public/limits.py``.) ``--workers`` or
``--threads`` on the command line still win over this file.
"""
import os

accesslog = "-"
logger_class = "survey_app.accesslog.RedactingLogger"
# No control socket: its default path is one per user, and two servers on one machine
# (``make run`` on two ports, the tests) would take it from each other. Nothing here uses it.
control_socket_disable = True


def _redis_answers(url: str) -> bool:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001  (no Redis, or none answering: count in memory)
        return False


def _shown(url: str) -> str:
    """The storage address without a password."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


_storage = os.environ.get("RATELIMIT_STORAGE_URI", "").strip()
_candidate = os.environ.get("RATELIMIT_TRY_REDIS", "").strip()
_why = "RATELIMIT_STORAGE_URI"
if not _storage and _candidate:
    if _redis_answers(_candidate):
        # Set before the workers are forked: they read it when they load the app.
        os.environ["RATELIMIT_STORAGE_URI"] = _storage = _candidate
        _why = "RATELIMIT_TRY_REDIS, which answered"
    else:
        _why = f"no Redis answered at {_shown(_candidate)}"

_in_memory = not _storage or _storage.startswith("memory://")
if _in_memory:
    workers, threads = 1, 4
else:
    workers, threads = 2, 1


def on_starting(server):
    shape = f"{server.cfg.workers} worker process{'es' if server.cfg.workers > 1 else ''} " \
            f"with {server.cfg.threads} thread{'s' if server.cfg.threads > 1 else ''}"
    if not _in_memory:
        server.log.info("rate limits counted in %s (from %s), shared by %s", _shown(_storage), _why, shape)
    elif server.cfg.workers == 1:
        server.log.info("rate limits counted in memory (%s): %s, so one counter sees every request",
                        _why if _candidate else "no RATELIMIT_STORAGE_URI", shape)
    else:
        server.log.warning("rate limits counted in memory by each of %s: each limit is allowed up to %d times; "
                           "set RATELIMIT_STORAGE_URI to a Redis", shape, server.cfg.workers)
