"""Rate limits on the citizen POSTs (Flask-Limiter; the limits are settings, read per request).

- per device: the keyed daily hash of IP + user agent (``ratelimit.device_key``), shared by
  every survey form (``RATELIMIT_SURVEY_DEVICE``) and, separately, by the page where codes
  are typed (``RATELIMIT_CODE_ENTRY``);
- per address: the same two limits keyed by the IP's daily hash alone
  (``RATELIMIT_SURVEY_ADDRESS``, ``RATELIMIT_CODE_ENTRY_ADDRESS``), set several times
  higher because people behind one NAT share an address; a client that changes its user
  agent at every request escapes the device key but not these;
- per service point: a burst cap keyed by the point's code, shared by ``/s/<code>`` and the
  kiosk ``/k/<code>`` (``RATELIMIT_SURVEY_POINT``); over it, the poster form comes back
  with the answers filled in, as for a flood (:func:`_poster_point_breach`).

The poster QR (``/s``) is the exception: its device and address limits do not refuse.
An answer over them is stored and flagged suspect (``over_limit``, :func:`poster_verdict`);
only a plain flood (``RATELIMIT_SURVEY_FLOOD_DEVICE`` / ``_ADDRESS``)
is refused, and then the form comes back with the answers filled in and the minutes to
wait. Elsewhere, over a limit the request ends in a 429 before the view runs, so nothing is stored; the
error handler renders the page in the visitor's language. Storage is memory by default and
Redis when ``RATELIMIT_STORAGE_URI`` says so. Keys carry ``RATELIMIT_KEY_PREFIX``. When
Redis cannot be reached the limits are counted in this process's memory until it is back
(``RATELIMIT_IN_MEMORY_FALLBACK``, on by default): answers are still taken, the limits
still hold per worker, and ``/healthz`` reports the storage (:func:`storage_state`).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import current_app, make_response, request, url_for
from flask_limiter import RequestLimit
from limits import parse_many

from . import bp, flow
from ..extensions import limiter
from ..i18n import current_language
from ..ratelimit import address_limit_key, device_limit_key, point_limit_key, remember_device


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
def _poster_point_breach(limit: RequestLimit):
    """Flask-Limiter's ``on_breach`` for the poster POST over its point's burst cap: not
    the bare 429 page, which would lose the answers, but the form again with them filled
    in and the minutes to wait (``flow.refuse_flood``); nothing is stored. A point that
    is closed or unknown gets its own page, as the view would give it."""
    code = (request.view_args or {}).get("code", "")
    target = flow.open_target(code, autocommit=True)
    action = url_for("public.submit", code=code, lang=current_language())
    return make_response(flow.refuse_flood(target, action_url=action, minutes=_minutes(limit.reset_at - time.time()),
                                           busy_point=True))


survey_point_limit = limiter.shared_limit(
    _setting("RATELIMIT_SURVEY_POINT"), scope="survey-point", key_func=point_limit_key, methods=["POST"])
# the same count (one scope), for /s: its breach keeps the answers
poster_point_limit = limiter.shared_limit(
    _setting("RATELIMIT_SURVEY_POINT"), scope="survey-point", key_func=point_limit_key, methods=["POST"],
    on_breach=_poster_point_breach)
survey_address_limit = limiter.shared_limit(
    _setting("RATELIMIT_SURVEY_ADDRESS"), scope="survey-address", key_func=address_limit_key, methods=["POST"])
code_entry_limit = limiter.shared_limit(
    _setting("RATELIMIT_CODE_ENTRY"), scope="code-entry", key_func=device_limit_key, methods=["POST"])
code_entry_address_limit = limiter.shared_limit(
    _setting("RATELIMIT_CODE_ENTRY_ADDRESS"), scope="code-entry-address", key_func=address_limit_key,
    methods=["POST"])


DEVICE_COOKIE_ENDPOINTS = frozenset({"public.survey", "public.submit"})


@bp.after_request
def _device_cookie(response):
    """The poster survey's pages give the browser its device cookie (``ratelimit.remember_device``)."""
    if request.endpoint in DEVICE_COOKIE_ENDPOINTS:
        remember_device(response)
    return response


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True)) and limiter.enabled


def _hit(setting: str, scope: str, key: str) -> float | None:
    """Count this request against every limit of ``setting``; the seconds until the first
    one that is over resets, or ``None`` when none is over (a storage error counts nothing)."""
    strategy = limiter.limiter
    # The same identifiers as Flask-Limiter's for a shared limit of this scope, so a count
    # here and one of the decorators (the /v and /k forms' "survey-device") are one count.
    # Flask-Limiter 4.1 (pinned) keeps its key prefix without a public accessor.
    prefix = getattr(limiter, "_key_prefix", "") or ""
    identifiers = (prefix, key, scope) if prefix else (key, scope)
    wait = None
    for item in parse_many(current_app.config[setting]):
        try:
            if not strategy.hit(item, *identifiers):
                reset, _remaining = strategy.get_window_stats(item, *identifiers)
                wait = max(wait or 0.0, reset - time.time())
        except Exception:  # the storage is down: never refuse or flag for it
            current_app.logger.warning("rate-limit storage error on %s", scope, exc_info=True)
            return None
    return wait


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


@dataclass(frozen=True)
class PosterVerdict:
    """What the poster survey's limits say of one POST: ``flood_minutes`` to wait when it
    is a plain flood (refused), else whether it is ``over_limit`` (stored, flagged)."""
    flood_minutes: int | None = None
    over_limit: bool = False


def poster_verdict() -> PosterVerdict:
    """For the poster survey POST: count it against the flood limits
    (``RATELIMIT_SURVEY_FLOOD_DEVICE`` / ``_ADDRESS``) and, when it is no flood, against
    ``RATELIMIT_SURVEY_DEVICE`` / ``_ADDRESS``. The device and address keys are made once."""
    if not _enabled():
        return PosterVerdict()
    device, address = device_limit_key(), address_limit_key()
    waits = [w for w in (_hit("RATELIMIT_SURVEY_FLOOD_DEVICE", "survey-flood-device", device),
                         _hit("RATELIMIT_SURVEY_FLOOD_ADDRESS", "survey-flood-address", address))
             if w is not None]
    if waits:
        return PosterVerdict(flood_minutes=_minutes(max(waits)))
    over_device = _hit("RATELIMIT_SURVEY_DEVICE", "survey-device", device)
    over_address = _hit("RATELIMIT_SURVEY_ADDRESS", "survey-address", address)
    return PosterVerdict(over_limit=over_device is not None or over_address is not None)
