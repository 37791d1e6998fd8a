"""The suppression list: keyed hashes of people marketing must never reach again."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from privet.state.db import Base


class SuppressionEntry(Base):
    __tablename__ = "privet_suppression"

    digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.String(50))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
