"""A dossier as the API shows it: times in Vietnam time (ISO 8601 with ``+07:00``), the
evaluation code's address and QR images when the code is known (the request that created
the dossier), and always the check code and the page where both codes are typed."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ...models import Dossier
from ..qr import encoding
from ..reports.rollup import LOCAL_TZ

__all__ = ["as_json", "entry_url", "local_iso"]


def local_iso(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment is not None else None


def entry_url(base_url: str) -> str:
    """The page where a citizen types the dossier code and the check code."""
    return f"{base_url}/d"


def as_json(dossier: Dossier, base_url: str, evaluation_code: str | None = None) -> dict[str, Any]:
    url = encoding.token_url(base_url, evaluation_code) if evaluation_code else None
    return {
        "code": dossier.code,
        "service_point": dossier.unit.code,
        "procedure_code": dossier.procedure_code,
        "procedure_name": dossier.procedure_name,
        "sector": dossier.sector,
        "staff": dossier.staff,
        "received_at": local_iso(dossier.received_at),
        "due_at": local_iso(dossier.due_at),
        "returned_at": local_iso(dossier.returned_at),
        "status": dossier.status,
        "late": dossier.late,
        "waited_minutes": dossier.waited_minutes,
        "document_requests": dossier.document_requests,
        "petition": dossier.petition,
        "rated": dossier.response_id is not None,
        "evaluation": {
            "code": evaluation_code,
            "url": url,
            "qr_png": f"{url}/qr.png" if url else None,
            "qr_svg": f"{url}/qr.svg" if url else None,
            "check_code": dossier.check_code,
            "entry_url": entry_url(base_url),
        },
    }
