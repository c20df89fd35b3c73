"""Selection rounds / 선정 심사: tables.

A round holds its rubric as data, so a past round's scores are always read against the rubric
they were given under. Proposal versions are never changed or deleted: a revision adds one.
Conflicts of interest are stored per member and region; a member is recused from every
proposal of a region they declared (or are affiliated with).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base

ROUND_STATUSES = ("open", "scoring_closed", "decided")
MEMBER_ROLES = ("chair", "official", "expert")


class SelectionRound(Base):
    __tablename__ = "selection_round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title_ko: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    window_opens_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    window_closes_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rubric: Mapped[list] = mapped_column(JSON)
    quorum: Mapped[str] = mapped_column(String(16), default="2/3")
    threshold: Mapped[float] = mapped_column(Float)
    max_selected: Mapped[int | None] = mapped_column(Integer)
    trim: Mapped[bool] = mapped_column(Boolean, default=False)
    quota_ceiling: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    scoring_closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    meeting_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("status IN ('open', 'scoring_closed', 'decided')", name="status"),
        CheckConstraint("threshold >= 0 AND threshold <= 100", name="threshold"),
        CheckConstraint("window_closes_at > window_opens_at", name="window"),
    )


class CommitteeMember(Base):
    """A committee member: a user of the committee_member role, the body they come from and the
    regional government they belong to (`affiliation_region`, which recuses them automatically).

    With a `round_id` it is a seat on that selection round's committee, with its role and the
    affiliation as declared for the round (the minutes print it). Without one (NULL) it is the
    member's entry in the standing evaluation committee, one per user, which the annual
    evaluation reads for recusal; `added_by`/`added_at` then say who recorded it last.
    """

    __tablename__ = "committee_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("selection_round.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    role: Mapped[str | None] = mapped_column(String(16))
    affiliation: Mapped[str] = mapped_column(String(200))
    # 2-digit code of the regional government the member belongs to; NULL for central
    # government officials and private experts, who are never recused automatically.
    affiliation_region: Mapped[str | None] = mapped_column(String(2))
    declared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("round_id", "user_id"),
        Index(
            "uq_committee_member_standing_user_id",
            "user_id",
            unique=True,
            sqlite_where=text("round_id IS NULL"),
            postgresql_where=text("round_id IS NULL"),
        ),
        CheckConstraint(
            "(round_id IS NULL AND role IS NULL)"
            " OR (round_id IS NOT NULL AND role IS NOT NULL AND role IN ('chair', 'official', 'expert'))",
            name="role",
        ),
    )


class ConflictDeclaration(Base):
    """A declared (or automatic, by affiliation) conflict: the member is recused from the region."""

    __tablename__ = "selection_conflict"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_member.id", ondelete="CASCADE"), index=True)
    region: Mapped[str] = mapped_column(String(2))
    source: Mapped[str] = mapped_column(String(16))  # affiliation | declared
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("member_id", "region"),
        CheckConstraint("source IN ('affiliation', 'declared')", name="source"),
    )


class Proposal(Base):
    __tablename__ = "selection_proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("selection_round.id", ondelete="CASCADE"), index=True)
    region: Mapped[str] = mapped_column(String(2))
    current_version: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("round_id", "region"),)


class ProposalVersion(Base):
    """One submission as it was sent: designs (validated), requested quotas, narrative, attachments."""

    __tablename__ = "selection_proposal_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("selection_proposal.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    designs: Mapped[list] = mapped_column(JSON)  # [{"design": {...}, "requested_quota": n, "digest": ...}]
    narrative: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list] = mapped_column(JSON)  # [attachment id, ...]
    digest: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("proposal_id", "version"),)


class Attachment(Base):
    __tablename__ = "selection_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("selection_proposal.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Score(Base):
    __tablename__ = "selection_score"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("selection_proposal.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_member.id", ondelete="CASCADE"), index=True)
    criterion: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    proposal_version: Mapped[int] = mapped_column(Integer)
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("proposal_id", "member_id", "criterion"),
        CheckConstraint("score >= 0 AND score <= 100", name="range"),
    )


class Decision(Base):
    """The chair's confirmed decision on one proposal, with the figures it was taken on."""

    __tablename__ = "selection_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("selection_proposal.id", ondelete="CASCADE"), unique=True)
    selected: Mapped[bool] = mapped_column(Boolean)
    recommended: Mapped[bool] = mapped_column(Boolean)
    aggregate: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    quotas: Mapped[list] = mapped_column(JSON)  # [{program_id, requested, recommended, confirmed, reason}]
    summary: Mapped[dict] = mapped_column(JSON)  # scorers, recused, per-criterion means, trimmed
    confirmed_by: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
