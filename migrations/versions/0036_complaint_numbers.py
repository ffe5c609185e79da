"""Complaint numbers are random, not sequential (issue 24, item 8).

The public reference ``DQ-<number>`` is also Open311's ``service_request_id``. Numbered in order, the
gap a hidden complaint (``child_safety`` is never published) leaves between two public ones revealed
that one was filed, and when. New complaints draw a random unused number of ten digits instead
(``complaint_number()``, the column's default); numbers already given out stay as they are, since
reporters hold them.

Revision ID: 0036_complaint_numbers
Revises: 0035_pwa_favourites
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0036_complaint_numbers"
down_revision: str | None = "0035_pwa_favourites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # gen_random_bytes would need pgcrypto; gen_random_uuid() (core since PostgreSQL 13) is drawn from
    # the server's strong random source, and 8 of its bytes give the number.
    op.execute(
        """
        CREATE FUNCTION complaint_number() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
        DECLARE n bigint;
        BEGIN
            LOOP
                n := 1000000000 + mod(('x' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 15))::bit(60)::bigint,
                                      9000000000);
                EXIT WHEN NOT EXISTS (SELECT 1 FROM complaints WHERE number = n);
            END LOOP;
            RETURN n;
        END $$
        """
    )
    op.execute("ALTER TABLE complaints ALTER COLUMN number DROP IDENTITY")
    op.execute("ALTER TABLE complaints ALTER COLUMN number SET DEFAULT complaint_number()")


def downgrade() -> None:
    op.execute("ALTER TABLE complaints ALTER COLUMN number DROP DEFAULT")
    op.execute(
        "ALTER TABLE complaints ALTER COLUMN number ADD GENERATED ALWAYS AS IDENTITY"
    )
    # Continue after the largest number in use (random numbers included), as a sequence would.
    op.execute(
        "SELECT setval(pg_get_serial_sequence('complaints', 'number'),"
        " greatest((SELECT max(number) FROM complaints), 1))"
    )
    op.execute("DROP FUNCTION complaint_number()")
