"""Rollups: the sufficient statistics of responses, kept incrementally.

Responses are categorical, so reports need counts, not rows. These tables hold them, each
row keyed by (campaign, unit, instrument version, local day or month, channel, trust):

* ``rollup_cell`` (day) and ``rollup_cell_month`` (month) — ``counts``, the answers to
  the counted questions as ``{question_key: {value_key: n}}``;
* ``rollup_response`` (day) — ``responses`` (the day's count) and ``hours``,
  ``{hour: [responses, scored, satisfied,
  all_satisfied, points_n, points_sum, points_sumsq]}``: responses, scored/satisfied
  answers (for the hour × weekday pattern), respondents satisfied on every item they
  answered (MOH comprehensive satisfaction), and the sum and sum of squares of
  per-respondent point totals (one-stop scoring); ``rollup_response_month`` (month) —
  ``grid``, the same sums as ``{weekday: {hour: [...]}}`` (local weekday, 0 = Monday);
* ``rollup_factor`` — per month and factor: over respondents who answered every item of
  the factor, n, Σx and Σxxᵀ — all Cronbach's alpha needs;
* ``rollup_moments`` — per month: the respondents' feature moments
  (``analysis/respondent.py``).

One row per day or month holding a JSON document, rather than one per question and value
or per hour: with a few responses per point and day almost every (question, value) held
one or two answers, so such rows were nearly as many as the answers, and writing them was
most of the catch-up's time (PostgreSQL's cost is per row). A report reads the whole months
of its window from the month tables, so its cost grows with units × months, not with days
or responses, and the day tables only for a month that its window starts or ends inside.

The month tables belong to the rollup family whose bookkeeping row is ``rollup_state``
(``state_name``, ON DELETE CASCADE): clearing the rollups to rebuild them (delete the
day-level rows and the state row, mark responses not rolled up, as migrations 0007 and
0009 do) clears the month sums with them, so they cannot outlive the rows they summarise.

The watermark is ``response.rolled_up``: the catch-up takes responses not yet rolled up,
adds them to the rollups and marks them in the same transaction, so a response is counted
exactly once even when transactions commit out of id order.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

# Value keys (NOT NULL text): "i:<int>" for levels and numbers, "t:<option key>" for
# choices. Free text is not rolled up.


class _DayKey:
    """The key of a day-level rollup row."""

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    trust: Mapped[str] = mapped_column(String(10), primary_key=True)


class _MonthKey:
    """The key of a month-level rollup row (``month`` is the month's first day), and its
    rollup family (see the module's docstring)."""

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True, index=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    trust: Mapped[str] = mapped_column(String(10), primary_key=True)
    state_name: Mapped[str] = mapped_column(String(20), ForeignKey("rollup_state.name", ondelete="CASCADE"),
                                            default="main")


class RollupCell(_DayKey, Base):
    """Answers of one local day: ``counts`` = ``{question_key: {value_key: n}}``."""

    __tablename__ = "rollup_cell"
    # By unit and day: reports read days only for the months their window starts or ends inside.
    __table_args__ = (Index("ix_rollup_cell_unit_id_day", "unit_id", "day"),)

    counts: Mapped[dict[str, Any]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<RollupCell {self.unit_id} {self.day}>"


class RollupResponse(_DayKey, Base):
    """Per-response sums of one local day by hour: ``hours`` = ``{hour: [7 sums]}``, and
    ``responses``, the day's responses (the sum of the first entries), for the queries
    that count responses per day in SQL (the release audit, the busiest instrument)."""

    __tablename__ = "rollup_response"
    __table_args__ = (Index("ix_rollup_response_unit_id_day", "unit_id", "day"),)

    responses: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[dict[str, Any]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<RollupResponse {self.unit_id} {self.day}>"


class RollupCellMonth(_MonthKey, Base):
    """Answers of one local month: ``counts`` = ``{question_key: {value_key: n}}``."""

    __tablename__ = "rollup_cell_month"

    counts: Mapped[dict[str, Any]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<RollupCellMonth {self.unit_id} {self.month}>"


class RollupResponseMonth(_MonthKey, Base):
    """Per-response sums of one local month: ``grid`` = ``{weekday: {hour: [7 sums]}}``."""

    __tablename__ = "rollup_response_month"

    grid: Mapped[dict[str, Any]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<RollupResponseMonth {self.unit_id} {self.month}>"


class RollupFactor(Base):
    __tablename__ = "rollup_factor"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True, index=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    trust: Mapped[str] = mapped_column(String(10), primary_key=True)
    factor_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    # Σx per item and Σx_i·x_j per item pair, items in the factor's question order.
    sums: Mapped[list[Any]] = mapped_column(JSON)
    cross: Mapped[list[Any]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<RollupFactor {self.unit_id} {self.month} {self.factor_key} n={self.n}>"


class RollupMoments(Base):
    """Respondent-level moments per (campaign, unit, version, local month, channel, trust).

    ``moments`` is :meth:`analysis.respondent.Moments.to_json` of the feature vectors of the
    month's respondents (``analysis.respondent.feature_layout``): their count, sums and
    cross-products, from which every interval treats the respondent as its sampling unit.
    """

    __tablename__ = "rollup_moments"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True, index=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    trust: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    moments: Mapped[dict[str, Any]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<RollupMoments {self.unit_id} {self.month} n={self.n}>"


class RollupState(Base):
    """Bookkeeping of the catch-up: one row per rollup family (``'main'``)."""

    __tablename__ = "rollup_state"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    responses_rolled: Mapped[int] = mapped_column(BigInteger, default=0)
    last_response_id: Mapped[Optional[int]] = mapped_column(BigInteger)
    note: Mapped[Optional[str]] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<RollupState {self.name} {self.responses_rolled}>"
