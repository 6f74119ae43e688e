"""Moderation of open answers: an abusive comment is hidden, never deleted."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .response import Answer
from .user import User


class CommentFlag(Base):
    """The moderation state of one open answer (a text/longtext ``Answer``).

    No row means shown. Hiding keeps the answer; the comments page leaves it out (a
    manager can list and restore it), exports leave its text empty, and every change is
    in the audit log with ``changed_by`` here for the latest one.
    """

    __tablename__ = "comment_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"), unique=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[Optional[str]] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"))

    answer: Mapped[Answer] = relationship()
    changed_by: Mapped[Optional[User]] = relationship()

    def __repr__(self) -> str:
        return f"<CommentFlag answer={self.answer_id} {'hidden' if self.hidden else 'shown'}>"
