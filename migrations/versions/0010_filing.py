"""Filing (备案): filings and their history, institutions.filed_at, filing documents as uploads.

* ``filings``: one dossier per institution (status mirrors ``institutions.filing_status``);
  ``filing_history``: every submission and decision (who, when, reasons).
* ``institutions.filed_at``: when the filing was approved; a trigger sets it when the status becomes
  'filed' and clears it when the status leaves 'filed' (so every writer — the filing domain, the
  registry, demo data — keeps the two in step), and a CHECK holds them together.
* ``uploads``: the purpose 'filing_document', which may be a PDF, so ``width``/``height`` become
  nullable (both or neither; images always have them).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # institutions.filed_at, kept in step with filing_status by a trigger.
    op.add_column("institutions", sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        CREATE FUNCTION institutions_filed_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.filing_status = 'filed' THEN
                NEW.filed_at := coalesce(NEW.filed_at, now());
            ELSE
                NEW.filed_at := NULL;
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER institutions_filed_at BEFORE INSERT OR UPDATE OF filing_status, filed_at ON institutions
            FOR EACH ROW EXECUTE FUNCTION institutions_filed_at();
        """
    )
    op.execute("UPDATE institutions SET filed_at = updated_at WHERE filing_status = 'filed'")
    op.create_check_constraint(
        op.f("ck_institutions_filed_at_when_filed"),
        "institutions",
        "(filing_status = 'filed') = (filed_at IS NOT NULL)",
    )

    # Uploads: filing documents, possibly PDFs without pixel sizes.
    op.drop_constraint(op.f("ck_uploads_purpose"), "uploads", type_="check")
    op.create_check_constraint(
        op.f("ck_uploads_purpose"),
        "uploads",
        "purpose IN ('notice_image', 'complaint_photo', 'room_photo', 'filing_document')",
    )
    op.drop_constraint(op.f("ck_uploads_sizes_positive"), "uploads", type_="check")
    op.alter_column("uploads", "width", nullable=True)
    op.alter_column("uploads", "height", nullable=True)
    op.create_check_constraint(
        op.f("ck_uploads_sizes_positive"),
        "uploads",
        "byte_size > 0 AND ((width IS NULL AND height IS NULL) OR (width > 0 AND height > 0))",
    )
    op.create_check_constraint(
        op.f("ck_uploads_images_have_sizes"), "uploads", "purpose = 'filing_document' OR width IS NOT NULL"
    )

    op.create_table(
        "filings",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'unfiled'"), nullable=False),
        sa.Column("serves_meals", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("submission", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.UUID(), nullable=True),
        sa.Column("return_reasons", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('unfiled', 'submitted', 'filed', 'returned')", name=op.f("ck_filings_status")),
        sa.CheckConstraint("submission >= 0", name=op.f("ck_filings_submission_non_negative")),
        sa.CheckConstraint(
            "status = 'unfiled' OR (submitted_at IS NOT NULL AND due_at IS NOT NULL AND submission > 0)",
            name=op.f("ck_filings_submitted_with_due_date"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('filed', 'returned') OR decided_at IS NOT NULL",
            name=op.f("ck_filings_decided_when_decided"),
        ),
        sa.CheckConstraint(
            "(status = 'returned') = (return_reasons IS NOT NULL AND length(btrim(return_reasons)) > 0)",
            name=op.f("ck_filings_returned_with_reasons"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_filings_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["accounts.id"], name=op.f("fk_filings_decided_by_accounts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filings")),
        sa.UniqueConstraint("institution_id", name=op.f("uq_filings_institution_id")),
    )
    op.create_index("ix_filings_submitted_due", "filings", ["due_at"], postgresql_where=sa.text("status = 'submitted'"))
    op.create_table(
        "filing_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("filing_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("submission", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("action IN ('submitted', 'approved', 'returned')", name=op.f("ck_filing_history_action")),
        sa.CheckConstraint(
            "action <> 'returned' OR (reasons IS NOT NULL AND length(btrim(reasons)) > 0)",
            name=op.f("ck_filing_history_returned_with_reasons"),
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_filing_history_filing_id_filings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["accounts.id"], name=op.f("fk_filing_history_actor_id_accounts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_history")),
    )
    op.create_index("ix_filing_history_filing_id", "filing_history", ["filing_id", "id"])


def downgrade() -> None:
    op.drop_table("filing_history")
    op.drop_table("filings")
    op.execute("DELETE FROM uploads WHERE purpose = 'filing_document'")
    op.drop_constraint(op.f("ck_uploads_images_have_sizes"), "uploads", type_="check")
    op.drop_constraint(op.f("ck_uploads_sizes_positive"), "uploads", type_="check")
    op.alter_column("uploads", "width", nullable=False)
    op.alter_column("uploads", "height", nullable=False)
    op.create_check_constraint(
        op.f("ck_uploads_sizes_positive"), "uploads", "byte_size > 0 AND width > 0 AND height > 0"
    )
    op.drop_constraint(op.f("ck_uploads_purpose"), "uploads", type_="check")
    op.create_check_constraint(
        op.f("ck_uploads_purpose"), "uploads", "purpose IN ('notice_image', 'complaint_photo', 'room_photo')"
    )
    op.drop_constraint(op.f("ck_institutions_filed_at_when_filed"), "institutions", type_="check")
    op.execute("DROP TRIGGER institutions_filed_at ON institutions")
    op.execute("DROP FUNCTION institutions_filed_at()")
    op.drop_column("institutions", "filed_at")
