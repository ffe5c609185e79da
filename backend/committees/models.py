"""Parent committees (家长委员会): who sits on an institution's committee, in what role, for which term.

A membership is a term: ``term_start``..``term_end`` (both inclusive, local dates). Ending one early
keeps the row (who ended it and when) so the committee's history stays readable. PostgreSQL
enforces the two rules that matter, with exclusion constraints over the live terms:

* an account holds at most one membership of an institution's committee at any date;
* an institution has at most one chair at any date.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import Base, created_at, uuid_pk
from backend.core.errors import register_constraint_messages

TERM = "daterange(term_start, term_end, '[]')"
ROLE_ZH = {"chair": "主任", "member": "委员"}
SOURCE_ZH = {"appointed": "机构任命", "elected": "家长选举"}


class CommitteeMember(Base):
    __tablename__ = "committee_members"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'chair')", name="role"),
        CheckConstraint("source IN ('appointed', 'elected')", name="source"),
        CheckConstraint("term_end >= term_start", name="term_order"),
        ExcludeConstraint(
            ("institution_id", "="),
            ("account_id", "="),
            (text(TERM), "&&"),
            where=text("ended_at IS NULL"),
            name="ex_committee_members_one_term",
            using="gist",
        ),
        ExcludeConstraint(
            ("institution_id", "="),
            (text(TERM), "&&"),
            where=text("role = 'chair' AND ended_at IS NULL"),
            name="ex_committee_members_one_chair",
            using="gist",
        ),
        Index("ix_committee_members_account_id", "account_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(10))
    term_start: Mapped[dt.date]
    term_end: Mapped[dt.date]
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = created_at()
    ended_at: Mapped[dt.datetime | None]
    ended_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


register_constraint_messages(
    {
        "ex_committee_members_one_term": (
            "already_member",
            "This parent already sits on the committee during that term",
            "该家长在此任期内已是家长委员会成员",
        ),
        "ex_committee_members_one_chair": (
            "chair_taken",
            "The committee already has a chair during that term",
            "此任期内家长委员会已有主任",
        ),
        "ck_committee_members_term_order": (
            "term_order",
            "The term must end on or after its start",
            "任期结束日期不能早于开始日期",
        ),
    }
)
