"""Published PAPI scores: a province's (or any unit's) dimension scores as PAPI published
them, entered by an official so the mirror's report can show them beside its own."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .unit import Unit
from .user import User

#: PAPI's eight dimensions, in PAPI's order; the mirror instrument's factors use these keys.
PAPI_DIMENSIONS = ("participation", "transparency", "accountability", "corruption", "procedures", "services",
                   "environment", "egovernance")
#: The first PAPI year (the pilot was 2009) and a far bound.
PAPI_YEARS = (2009, 2100)
SCORE_MIN, SCORE_MAX = 1, 10


def _score() -> Mapped[float]:
    # Exact on PostgreSQL (numeric), returned as float on both databases.
    return mapped_column(Numeric(6, 4, asdecimal=False))


class PapiPublished(Base):
    """One year of published PAPI dimension scores (1–10 each) for ``unit``.

    Entered on the unit whose reports should show them (usually the province: every ward
    below it then sees them); a report shows the latest year entered at the nearest unit
    on its path. One row per unit and year: entering a year again replaces its scores.
    ``source`` says where the numbers come from (e.g. "Báo cáo PAPI 2024, CECODES,
    VFF-CRT, UNDP"); who entered them and when are kept.
    """

    __tablename__ = "papi_published"
    __table_args__ = (
        UniqueConstraint("unit_id", "year"),
        CheckConstraint(f"year >= {PAPI_YEARS[0]} AND year <= {PAPI_YEARS[1]}", name="year"),
        *(CheckConstraint(f"{d} >= {SCORE_MIN} AND {d} <= {SCORE_MAX}", name=f"{d}_range") for d in PAPI_DIMENSIONS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300))
    participation: Mapped[float] = _score()
    transparency: Mapped[float] = _score()
    accountability: Mapped[float] = _score()
    corruption: Mapped[float] = _score()
    procedures: Mapped[float] = _score()
    services: Mapped[float] = _score()
    environment: Mapped[float] = _score()
    egovernance: Mapped[float] = _score()
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"))
    entered_by_name: Mapped[str] = mapped_column(String(64))

    unit: Mapped[Unit] = relationship()
    entered_by: Mapped[Optional[User]] = relationship()

    @property
    def scores(self) -> dict[str, float]:
        """Dimension key → score, in PAPI's order."""
        return {d: float(getattr(self, d)) for d in PAPI_DIMENSIONS}

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    def __repr__(self) -> str:
        return f"<PapiPublished {self.id} unit={self.unit_id} {self.year}>"
