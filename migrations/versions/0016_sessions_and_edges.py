"""Sessions and edges: sockets close when a role grant is removed; complaint filing idempotency.

* ``role_grants``: removing (or changing) a grant notifies ``dq_grants`` with the account id, so every
  app process closes that account's WebSockets at once (they reconnect with what the account still
  holds). Sessions already close on ``dq_sessions`` (0003).
* ``sealed_idempotency_keys``: ``Idempotency-Key`` for routes whose answer holds a secret shown once
  (a complaint's tracking code) and whose callers may be anonymous: the key is stored only as a keyed
  digest, scoped by the key alone, and the stored answer is encrypted under a key derived from the
  Idempotency-Key itself (see ``backend/core/idempotency.py``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION role_grants_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('dq_grants', OLD.account_id::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER role_grants_notify_change AFTER DELETE OR UPDATE ON role_grants
        FOR EACH ROW EXECUTE FUNCTION role_grants_notify_change()
        """
    )
    op.create_table(
        "sealed_idempotency_keys",
        sa.Column("key_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("key_digest", name=op.f("pk_sealed_idempotency_keys")),
    )


def downgrade() -> None:
    op.drop_table("sealed_idempotency_keys")
    op.execute("DROP TRIGGER role_grants_notify_change ON role_grants")
    op.execute("DROP FUNCTION role_grants_notify_change()")
