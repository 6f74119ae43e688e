"""Rollups: the sufficient statistics of responses, kept incrementally.

Responses are categorical, so reports need counts, not rows. These tables hold them:

* ``rollup_cell`` — answers per (campaign, unit, version, local day, channel, trust), by
  question and value in one JSON object;
* ``rollup_response`` — per (campaign, unit, version, local day, local hour, channel,
  trust): responses, scored/satisfied answers (for the hour × weekday pattern), respondents
  satisfied on every item they answered (MOH comprehensive satisfaction), and the sum and
  sum of squares of per-respondent point totals (one-stop scoring);
* ``rollup_factor`` — per (campaign, unit, version, local month, channel, trust, factor):
  over respondents who answered every item of the factor, n, Σx and Σxxᵀ — all Cronbach's
  alpha needs;
* ``rollup_moments`` — per (campaign, unit, version, local month, channel, trust): the
  respondents' feature moments (``analysis/respondent.py``);
* ``rollup_cell_month`` and ``rollup_response_month`` — the same sums as ``rollup_cell``
  and ``rollup_response`` by local *month* (and, for responses, local weekday and hour),
  kept beside them by the same catch-up. A report reads the whole months of its window
  from these, so its cost does not grow with the number of days or responses, and the
  day-level tables only for a month the window starts or ends inside.

The month tables belong to the rollup family whose bookkeeping row is ``rollup_state``
(``state_name``, ON DELETE CASCADE): clearing the rollups to rebuild them (delete the
cells and the state row, mark responses not rolled up, as migration 0007 does) clears the
month sums with them, so they can never outlive the day-level rows they summarise.

The watermark is ``response.rolled_up``: the catch-up takes responses not yet rolled up,
adds them to the cells and marks them in the same transaction, so a response is counted
exactly once even when transactions commit out of id order.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

# NOT NULL text key for the value of an answer, so month cells have a plain primary key:
# "i:<int>" for levels and numbers, "t:<option key>" for choices. Free text is not rolled up.


class RollupCell(Base):
    """Answers given on one local day, per (campaign, unit, version, channel, trust).

    ``counts`` is ``{question_key: {value_key: n}}`` over the counted questions. One row per
    day rather than per question and value: with a few responses per point and day almost
    every (question, value) holds one or two answers, so a row per value made the table
    nearly as large as the answers and the catch-up's cost one row written per 1.7 answers.
    Reports read these rows only for a month that their window starts or ends inside.
    """

    __tablename__ = "rollup_cell"
    # By unit and day: a report reads days only for the months its window starts or ends inside.
    __table_args__ = (Index("ix_rollup_cell_unit_id_day", "unit_id", "day"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    trust: Mapped[str] = mapped_column(String(10), primary_key=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<RollupCell {self.unit_id} {self.day}>"


class RollupResponse(Base):
    __tablename__ = "rollup_response"
    # By unit and day: a report reads days only for the months its window starts or ends inside.
    __table_args__ = (Index("ix_rollup_response_unit_id_day", "unit_id", "day"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    trust: Mapped[str] = mapped_column(String(10), primary_key=True)
    responses: Mapped[int] = mapped_column(Integer, default=0)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    all_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    points_n: Mapped[int] = mapped_column(Integer, default=0)
    points_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    points_sumsq: Mapped[int] = mapped_column(BigInteger, default=0)

    def __repr__(self) -> str:
        return f"<RollupResponse {self.unit_id} {self.day} {self.hour}h n={self.responses}>"


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


class RollupCellMonth(Base):
    """Answers per (campaign, unit, version, local month, channel, trust, question, value):
    ``rollup_cell`` summed by month (``month`` is its first day), one row per value."""

    __tablename__ = "rollup_cell_month"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True, index=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    trust: Mapped[str] = mapped_column(String(10), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    state_name: Mapped[str] = mapped_column(String(20), ForeignKey("rollup_state.name", ondelete="CASCADE"),
                                            default="main")

    def __repr__(self) -> str:
        return f"<RollupCellMonth {self.unit_id} {self.month} {self.question_key}={self.value_key} n={self.n}>"


class RollupResponseMonth(Base):
    """``rollup_response`` summed by local month, weekday (0 = Monday) and hour."""

    __tablename__ = "rollup_response_month"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True, index=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    trust: Mapped[str] = mapped_column(String(10), primary_key=True)
    responses: Mapped[int] = mapped_column(Integer, default=0)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    all_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    points_n: Mapped[int] = mapped_column(Integer, default=0)
    points_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    points_sumsq: Mapped[int] = mapped_column(BigInteger, default=0)
    state_name: Mapped[str] = mapped_column(String(20), ForeignKey("rollup_state.name", ondelete="CASCADE"),
                                            default="main")

    def __repr__(self) -> str:
        return f"<RollupResponseMonth {self.unit_id} {self.month} {self.weekday}/{self.hour}h n={self.responses}>"


class RollupState(Base):
    """Bookkeeping of the catch-up: one row per rollup family (``'main'``)."""

    __tablename__ = "rollup_state"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    responses_rolled: Mapped[int] = mapped_column(BigInteger, default=0)
    last_response_id: Mapped[Optional[int]] = mapped_column(BigInteger)
    note: Mapped[Optional[str]] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<RollupState {self.name} {self.responses_rolled}>"
