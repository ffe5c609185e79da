"""Family data rights (PIPL): audit of staff and officer reads of child records, export, erasure, retention.

* ``audit_log.child_ids``: the children whose data a logged response carried (ids only), with a GIN
  index to answer "who read this child's record"; read entries have no changes.
* ``audit_log``: UPDATE, DELETE and TRUNCATE are revoked from the table's owner (the application's
  role) on top of the append-only trigger of migration 0009. (A superuser ignores privileges; the
  trigger still refuses.)
* ``accounts.erased_at``: an account whose holder erased their data keeps only this tombstone (no
  phone, e-mail, name or password) while other families' records still name it; the retention job
  deletes it later. The login check allows such an account to have neither phone nor e-mail.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OWNER_PRIVILEGES = """
DO $$
DECLARE owner name := (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'audit_log'::regclass);
BEGIN
    EXECUTE format('{verb} UPDATE, DELETE, TRUNCATE ON audit_log {prep} %I', owner);
    EXECUTE '{verb} UPDATE, DELETE, TRUNCATE ON audit_log {prep} PUBLIC';
END $$
"""


def upgrade() -> None:
    op.add_column(
        "audit_log",
        sa.Column(
            "child_ids",
            postgresql.ARRAY(postgresql.UUID(as_uuid=True)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_index("ix_audit_log_child_ids", "audit_log", ["child_ids"], postgresql_using="gin")
    op.execute(_OWNER_PRIVILEGES.format(verb="REVOKE", prep="FROM"))

    op.add_column("accounts", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint(op.f("ck_accounts_has_login"), "accounts", type_="check")
    op.create_check_constraint(
        op.f("ck_accounts_has_login"), "accounts", "phone IS NOT NULL OR email IS NOT NULL OR erased_at IS NOT NULL"
    )
    op.create_check_constraint(
        op.f("ck_accounts_erased_is_empty"),
        "accounts",
        "erased_at IS NULL OR (phone IS NULL AND email IS NULL AND display_name IS NULL AND password_hash IS NULL)",
    )
    op.create_index(
        "ix_accounts_erased_at", "accounts", ["erased_at"], postgresql_where=sa.text("erased_at IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_erased_at", table_name="accounts")
    op.drop_constraint(op.f("ck_accounts_erased_is_empty"), "accounts", type_="check")
    op.drop_constraint(op.f("ck_accounts_has_login"), "accounts", type_="check")
    op.execute("DELETE FROM accounts WHERE erased_at IS NOT NULL")
    op.create_check_constraint(op.f("ck_accounts_has_login"), "accounts", "phone IS NOT NULL OR email IS NOT NULL")
    op.drop_column("accounts", "erased_at")

    op.execute(_OWNER_PRIVILEGES.format(verb="GRANT", prep="TO"))
    op.drop_index("ix_audit_log_child_ids", table_name="audit_log")
    op.drop_column("audit_log", "child_ids")
