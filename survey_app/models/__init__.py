"""Typed SQLAlchemy 2.x models, one module per aggregate."""
from .base import Base, UTCDateTime, utcnow
from .campaign import ACCESS_MODES, CAMPAIGN_STATUSES, Campaign, campaign_unit
from .instrument import Instrument, InstrumentVersion
from .response import CHANNELS, Answer, Response
from .rollup import RollupCell, RollupFactor, RollupResponse, RollupState
from .unit import UNIT_KINDS, Unit

__all__ = [
    "ACCESS_MODES", "CAMPAIGN_STATUSES", "CHANNELS", "UNIT_KINDS",
    "Answer", "Base", "RollupCell", "RollupFactor", "RollupResponse", "RollupState", "Campaign", "Instrument", "InstrumentVersion", "Response", "Unit",
    "UTCDateTime", "campaign_unit", "utcnow",
]
