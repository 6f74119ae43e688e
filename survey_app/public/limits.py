"""Rate limits on the citizen POSTs (Flask-Limiter; the limits are settings, read per request).

- per device: the keyed daily hash of IP + user agent (``ratelimit.device_key``), shared by
  every survey form (``RATELIMIT_SURVEY_DEVICE``) and, separately, by the page where codes
  are typed (``RATELIMIT_CODE_ENTRY``);
- per address: the same two limits keyed by the IP's daily hash alone
  (``RATELIMIT_SURVEY_ADDRESS``, ``RATELIMIT_CODE_ENTRY_ADDRESS``), set several times
  higher because people behind one NAT share an address; a client that changes its user
  agent at every request escapes the device key but not these;
- per service point: a burst cap keyed by the point's code, shared by ``/s/<code>`` and the
  kiosk ``/k/<code>`` (``RATELIMIT_SURVEY_POINT``).

Over a limit the request ends in a 429 before the view runs, so nothing is stored; the
error handler renders the page in the visitor's language. Storage is memory by default and
Redis when ``RATELIMIT_STORAGE_URI`` says so. Keys carry ``RATELIMIT_KEY_PREFIX``. When
Redis cannot be reached the limits are counted in this process's memory until it is back
(``RATELIMIT_IN_MEMORY_FALLBACK``, on by default): answers are still taken, the limits
still hold per worker, and ``/healthz`` reports the storage (:func:`storage_state`).
"""
from __future__ import annotations

from flask import current_app

from ..extensions import limiter
from ..ratelimit import address_limit_key, device_limit_key, point_limit_key


def storage_state() -> str:
    """``"ok"``, ``"off"`` (limits disabled), ``"unreachable"`` (counting in memory meanwhile)
    or ``"recovering"``: the storage answers again but this process still counts in memory
    until Flask-Limiter's next look at it (it looks again after 1, 2, 4 … 32 s, at a request)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True) or not limiter.enabled:
        return "off"
    if not limiter.storage.check():
        return "unreachable"
    # Flask-Limiter 4.1 (pinned) keeps its fallback switch here; it has no public accessor.
    return "recovering" if getattr(limiter, "_storage_dead", False) else "ok"


def _setting(name: str):
    return lambda: current_app.config[name]


survey_device_limit = limiter.shared_limit(
    _setting("RATELIMIT_SURVEY_DEVICE"), scope="survey-device", key_func=device_limit_key, methods=["POST"])
survey_point_limit = limiter.shared_limit(
    _setting("RATELIMIT_SURVEY_POINT"), scope="survey-point", key_func=point_limit_key, methods=["POST"])
survey_address_limit = limiter.shared_limit(
    _setting("RATELIMIT_SURVEY_ADDRESS"), scope="survey-address", key_func=address_limit_key, methods=["POST"])
code_entry_limit = limiter.shared_limit(
    _setting("RATELIMIT_CODE_ENTRY"), scope="code-entry", key_func=device_limit_key, methods=["POST"])
code_entry_address_limit = limiter.shared_limit(
    _setting("RATELIMIT_CODE_ENTRY_ADDRESS"), scope="code-entry-address", key_func=address_limit_key,
    methods=["POST"])
