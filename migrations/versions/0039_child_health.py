"""Children's health (医育结合, issue 21): health profiles with the guardian's consent, growth
measurements, follow-up items, daily health checks (晨午检) and cluster alerts, entry health checks,
vaccination certificate checks, the institutions' entry-check setting, and the health_report upload purpose. Health values are ciphertexts (CHECK: the application's format).

Revision ID: 0039_child_health
Revises: 0037_channels_wechat
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0039_child_health"
down_revision: str | None = "0038_import"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)


def _encrypted(column: str, table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"octet_length({column}) >= 30 AND get_byte({column}, 0) = 1", name=op.f(f"ck_{table}_{column}_encrypted")
    )


def upgrade() -> None:
    op.create_table(
        "child_health_profiles",
        sa.Column("child_id", UUID, sa.ForeignKey("children.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sex", sa.LargeBinary(), nullable=False),
        sa.Column("policy_version", sa.String(16), nullable=False),
        sa.Column("consented_by", UUID, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        _encrypted("sex", "child_health_profiles"),
        sa.CheckConstraint(
            "policy_version ~ '^[0-9]{4}-[0-9]{2}$'", name=op.f("ck_child_health_profiles_policy_version_format")
        ),
    )
    op.create_table(
        "growth_measurements",
        sa.Column("id", UUID, primary_key=True, server_default=sa.func.gen_random_uuid()),
        sa.Column("child_id", UUID, sa.ForeignKey("children.id", ondelete="CASCADE"), nullable=False),
        sa.Column("institution_id", UUID, sa.ForeignKey("institutions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("measured_by", UUID, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("readings", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        _encrypted("readings", "growth_measurements"),
    )
    op.create_index("ix_growth_measurements_child_id", "growth_measurements", ["child_id", "measured_on"])
    op.create_index("ix_growth_measurements_institution_id", "growth_measurements", ["institution_id", "measured_on"])
    op.create_table(
        "health_follow_ups",
        sa.Column("id", UUID, primary_key=True, server_default=sa.func.gen_random_uuid()),
        sa.Column("child_id", UUID, sa.ForeignKey("children.id", ondelete="CASCADE"), nullable=False),
        sa.Column("institution_id", UUID, sa.ForeignKey("institutions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("measurement_id", UUID, sa.ForeignKey("growth_measurements.id", ondelete="CASCADE"), nullable=True),
        sa.Column("kind", sa.String(16), server_default="growth", nullable=False),
        sa.Column("reasons", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(8), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", UUID, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        _encrypted("reasons", "health_follow_ups"),
        sa.CheckConstraint("kind IN ('growth', 'entry_check', 'vaccination')", name=op.f("ck_health_follow_ups_kind")),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_health_follow_ups_status")),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name=op.f("ck_health_follow_ups_closed_has_time")
        ),
    )
    op.create_index(
        "ix_health_follow_ups_open",
        "health_follow_ups",
        ["institution_id", "created_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_health_follow_ups_child_id", "health_follow_ups", ["child_id"])
    op.create_table(
        "daily_health_checks",
        sa.Column("id", UUID, primary_key=True, server_default=sa.func.gen_random_uuid()),
        sa.Column("child_id", UUID, sa.ForeignKey("children.id", ondelete="CASCADE"), nullable=False),
        sa.Column("institution_id", UUID, sa.ForeignKey("institutions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("class_id", UUID, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("check_date", sa.Date(), nullable=False),
        sa.Column("session", sa.String(16), nullable=False),
        sa.Column("well", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("findings", sa.LargeBinary(), nullable=False),
        sa.Column("checked_by", UUID, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        _encrypted("findings", "daily_health_checks"),
        sa.CheckConstraint("session IN ('morning', 'afternoon')", name=op.f("ck_daily_health_checks_session")),
        sa.CheckConstraint(
            "outcome IN ('stay', 'send_home', 'isolation')", name=op.f("ck_daily_health_checks_outcome")
        ),
        sa.CheckConstraint("well = (outcome = 'stay') OR NOT well", name=op.f("ck_daily_health_checks_well_stays")),
        sa.UniqueConstraint(
            "child_id", "check_date", "session", name=op.f("uq_daily_health_checks_child_id_check_date_session")
        ),
    )
    op.create_index("ix_daily_health_checks_class_id", "daily_health_checks", ["class_id", "check_date"])
    op.create_table(
        "health_cluster_alerts",
        sa.Column("id", UUID, primary_key=True, server_default=sa.func.gen_random_uuid()),
        sa.Column("institution_id", UUID, sa.ForeignKey("institutions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("class_id", UUID, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("unit_code", sa.Integer(), nullable=False),
        sa.Column("symptom", sa.String(16), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("child_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "symptom IN ('fever', 'rash', 'cough', 'diarrhoea', 'other')", name=op.f("ck_health_cluster_alerts_symptom")
        ),
        sa.CheckConstraint("child_count >= 3", name=op.f("ck_health_cluster_alerts_child_count")),
    )
    op.create_index("ix_health_cluster_alerts_class_id", "health_cluster_alerts", ["class_id", "symptom", "last_day"])
    op.create_index("ix_health_cluster_alerts_unit_code", "health_cluster_alerts", ["unit_code", "created_at"])

    op.create_table(
        "entry_health_checks",
        sa.Column("id", UUID, primary_key=True, server_default=sa.func.gen_random_uuid()),
        sa.Column("child_id", UUID, sa.ForeignKey("children.id", ondelete="CASCADE"), nullable=False),
        sa.Column("institution_id", UUID, sa.ForeignKey("institutions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("recorded_by", UUID, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("examined_on", sa.Date(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        _encrypted("record", "entry_health_checks"),
        sa.CheckConstraint("source IN ('guardian', 'staff')", name=op.f("ck_entry_health_checks_source")),
    )
    op.create_index("ix_entry_health_checks_child_id", "entry_health_checks", ["child_id", "examined_on"])
    op.create_table(
        "vaccination_checks",
        sa.Column("id", UUID, primary_key=True, server_default=sa.func.gen_random_uuid()),
        sa.Column("child_id", UUID, sa.ForeignKey("children.id", ondelete="CASCADE"), nullable=False),
        sa.Column("institution_id", UUID, sa.ForeignKey("institutions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("checked_by", UUID, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("missing", sa.LargeBinary(), nullable=False),
        sa.Column("catch_up_deadline", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        _encrypted("missing", "vaccination_checks"),
        sa.CheckConstraint("status IN ('complete', 'missing')", name=op.f("ck_vaccination_checks_status")),
        sa.CheckConstraint(
            "(status = 'missing') = (catch_up_deadline IS NOT NULL)",
            name=op.f("ck_vaccination_checks_deadline_when_missing"),
        ),
    )
    op.create_index("ix_vaccination_checks_child_id", "vaccination_checks", ["child_id", "checked_on"])
    op.create_table(
        "institution_health_settings",
        sa.Column("institution_id", UUID, sa.ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("entry_check_policy", sa.String(8), nullable=False),
        sa.Column("grace_days", sa.SmallInteger(), nullable=False),
        sa.Column("valid_days", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "entry_check_policy IN ('refuse', 'grace')", name=op.f("ck_institution_health_settings_entry_check_policy")
        ),
        sa.CheckConstraint("grace_days BETWEEN 0 AND 90", name=op.f("ck_institution_health_settings_grace_days")),
        sa.CheckConstraint("valid_days BETWEEN 1 AND 365", name=op.f("ck_institution_health_settings_valid_days")),
    )
    # A deleted entry check (erasure, retention, a child deleted) lets go of its report: the upload becomes
    # unattached, and the maintenance job deletes object and row (files.service.purge_unattached).
    op.execute(
        """
        CREATE FUNCTION entry_health_checks_release_reports() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE uploads SET subject_type = NULL, subject_id = NULL, position = NULL
            WHERE subject_type = 'entry_health_check' AND subject_id = OLD.id;
            RETURN OLD;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER entry_health_checks_release_reports AFTER DELETE ON entry_health_checks "
        "FOR EACH ROW EXECUTE FUNCTION entry_health_checks_release_reports()"
    )
    # Report uploads: a new document purpose (a PDF or an image), like filing documents.
    op.drop_constraint(op.f("ck_uploads_purpose"), "uploads", type_="check")
    op.create_check_constraint(
        op.f("ck_uploads_purpose"),
        "uploads",
        "purpose IN ('notice_image', 'complaint_photo', 'room_photo', 'filing_document', 'institution_cover', 'health_report')",
    )
    op.drop_constraint(op.f("ck_uploads_images_have_sizes"), "uploads", type_="check")
    op.create_check_constraint(
        op.f("ck_uploads_images_have_sizes"),
        "uploads",
        "purpose IN ('filing_document', 'health_report') OR width IS NOT NULL",
    )


def downgrade() -> None:
    op.execute("DELETE FROM uploads WHERE purpose = 'health_report'")
    op.drop_constraint(op.f("ck_uploads_images_have_sizes"), "uploads", type_="check")
    op.create_check_constraint(
        op.f("ck_uploads_images_have_sizes"), "uploads", "purpose = 'filing_document' OR width IS NOT NULL"
    )
    op.drop_constraint(op.f("ck_uploads_purpose"), "uploads", type_="check")
    op.create_check_constraint(
        op.f("ck_uploads_purpose"),
        "uploads",
        "purpose IN ('notice_image', 'complaint_photo', 'room_photo', 'filing_document', 'institution_cover')",
    )
    op.drop_table("institution_health_settings")
    op.drop_table("vaccination_checks")
    op.drop_table("entry_health_checks")
    op.execute("DROP FUNCTION entry_health_checks_release_reports()")
    op.drop_table("health_cluster_alerts")
    op.drop_table("daily_health_checks")
    op.drop_table("health_follow_ups")
    op.drop_table("growth_measurements")
    op.drop_table("child_health_profiles")
