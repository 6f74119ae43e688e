"""The administrative tree: since 1 July 2025 country › province › commune-level unit (xã,
phường, đặc khu) › service point; a unit may succeed others from a date (:mod:`.lineage`)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

UNIT_KINDS = ("admin", "one_stop", "health", "education")
#: The official level of an administrative unit (``Unit.division``), as the national list
#: names them: tỉnh, thành phố trực thuộc trung ương; xã, phường, đặc khu.
DIVISIONS = ("province", "city", "commune", "ward", "special_zone")
#: What kind of office a service point is (``Unit.office``), and the ``kind`` it goes with:
#: a commune's public administration service centre (Nghị định 118/2025/NĐ-CP) and its
#: reception points are one-stop; the health station; a school (and a class below it).
OFFICES = {"centre": "one_stop", "reception": "one_stop", "station": "health", "school": "education",
           "class": "education"}


class Unit(Base):
    """A node of the tree, addressed by a materialized path such as ``/vn/qt/p2/``.

    "This unit and everything below" is ``path LIKE '<path>%'`` on an indexed column.
    Service points (counters, stations, schools) carry a short public ``code`` used in QR
    URLs (``/s/<code>``).
    """

    __tablename__ = "unit"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('admin', 'one_stop', 'health', 'education')", name="kind"
        ),
        # LIKE 'prefix%' needs the pattern operator class on PostgreSQL.
        CheckConstraint("division IN ('province', 'city', 'commune', 'ward', 'special_zone')", name="division"),
        CheckConstraint("office IN ('centre', 'reception', 'station', 'school', 'class')", name="office"),
        Index("ix_unit_path_prefix", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id"), index=True)
    slug: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    code: Mapped[Optional[str]] = mapped_column(String(16), unique=True)
    #: The national statistics code of a province (2 digits) or commune (5 digits), where it has one.
    official_code: Mapped[Optional[str]] = mapped_column(String(8), unique=True)
    division: Mapped[Optional[str]] = mapped_column(String(16))
    office: Mapped[Optional[str]] = mapped_column(String(16))
    is_service_point: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Optional["Unit"]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent")

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/")

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_vi

    def __repr__(self) -> str:
        return f"<Unit {self.path} {self.kind}{' code=' + self.code if self.code else ''}>"
