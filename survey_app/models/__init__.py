"""Typed SQLAlchemy 2.x models, one module per aggregate."""
from .base import Base, UTCDateTime, utcnow
from .campaign import ACCESS_MODES, CAMPAIGN_STATUSES, Campaign, campaign_unit
from .instrument import Instrument, InstrumentVersion
from .response import CHANNELS, TRUST_LEVELS, Answer, Response, answer_digest
from .rollup import RollupCell, RollupCellMonth, RollupFactor, RollupMoments, RollupResponse, RollupResponseMonth, RollupState
from .unit import DIVISIONS, OFFICES, UNIT_KINDS, Unit
from .lineage import SUCCESSION_CHANGES, Succession
from .token import TOKEN_ACCESS_MODES, Kiosk, VisitToken
from .user import ROLE_RANK, ROLES, Grant, User
from .audit import AuditEvent
from .petition import (NOTICE_STATUSES, PETITION_CATEGORIES, PETITION_EVENT_KINDS, PETITION_STATUSES,
                       PUBLIC_EVENT_KINDS, VERDICTS, Petition, PetitionContact, PetitionEvent, PetitionNotice, PetitionPhoto,
                       PetitionVerdict)
from .publication import PUBLICATION_PERIODS, Publication  # report periods published at /p/<unit>
from .comment_flag import CommentFlag
from .apikey import API_SCOPES, ApiKey
from .papi import PAPI_DIMENSIONS, PapiPublished
from .dossier import DOSSIER_SOURCES, DOSSIER_STATUSES, Dossier
from .alert import ALERT_KINDS, ALERT_STATUSES, Alert, AlertRule
from .job import JOB_STATUSES, JobRun
from .export_job import EXPORT_JOB_KINDS, EXPORT_JOB_STATUSES, ExportJob

__all__ = [
    "ACCESS_MODES", "CAMPAIGN_STATUSES", "CHANNELS", "UNIT_KINDS",
    "Answer", "Base", "RollupCell", "RollupCellMonth", "RollupFactor", "RollupMoments", "RollupResponse", "RollupResponseMonth", "RollupState", "Campaign", "Instrument", "InstrumentVersion", "Response", "Unit",
    "TRUST_LEVELS", "UTCDateTime", "answer_digest", "campaign_unit", "utcnow",
    "Kiosk", "TOKEN_ACCESS_MODES", "VisitToken",
    "AuditEvent", "Grant", "ROLE_RANK", "ROLES", "User",
    "PETITION_CATEGORIES", "PETITION_EVENT_KINDS", "PETITION_STATUSES", "PUBLIC_EVENT_KINDS",
    "Petition", "PetitionContact", "PetitionEvent", "PetitionPhoto", "NOTICE_STATUSES", "PetitionNotice", "PetitionVerdict", "VERDICTS",
    "API_SCOPES", "ApiKey", "CommentFlag", "PUBLICATION_PERIODS", "Publication",
    "PAPI_DIMENSIONS", "PapiPublished",
    "DIVISIONS", "OFFICES", "SUCCESSION_CHANGES", "Succession",
    "DOSSIER_SOURCES", "DOSSIER_STATUSES", "Dossier",
    "ALERT_KINDS", "ALERT_STATUSES", "Alert", "AlertRule",
    "JOB_STATUSES", "JobRun",
    "EXPORT_JOB_KINDS", "EXPORT_JOB_STATUSES", "ExportJob",
]
