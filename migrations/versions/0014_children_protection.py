"""Children's data protection (PIPL): encrypted child names and birth dates, blind index, guardian consent.

* ``children.name`` and ``children.birth_date`` become bytea holding AES-256-GCM ciphertexts
  (backend/core/crypto.py). Existing rows are encrypted here, in Python, with the app's keys
  (``CHILD_DATA_KEYS``, or the development key derived from ``SECRET_KEY``); the downgrade decrypts
  them back (so it needs the same keys).
* ``guardianships.child_fingerprint``: the blind index (keyed hash of normalised name + birth date),
  unique per guardian, so nobody registers the same child twice; computed here for existing rows
  (a guardian's later duplicates, if any, keep NULL rather than failing the migration).
* ``guardian_consents``: a guardian's consent, under a policy version, to storing a child's data.
  A deferred constraint trigger refuses, at commit, any new child without one. Children stored
  before this revision have no consent record (none is invented); the trigger checks new rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500

CONSENT_FUNCTION = """
CREATE FUNCTION children_require_consent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Deferred to commit: the child may have been deleted again in the same transaction.
    IF EXISTS (SELECT 1 FROM children WHERE id = NEW.id)
       AND NOT EXISTS (SELECT 1 FROM guardian_consents WHERE child_id = NEW.id) THEN
        RAISE EXCEPTION 'rule:guardian_consent_required|A child is stored only with a guardian''s recorded consent|须先记录监护人的同意，才能保存儿童信息';
    END IF;
    RETURN NULL;
END $$
"""

CONSENT_TRIGGER = """
CREATE CONSTRAINT TRIGGER children_require_consent AFTER INSERT ON children
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION children_require_consent()
"""


def _keys():
    from backend.core import crypto

    return crypto.current()


def upgrade() -> None:
    op.create_table(
        "guardian_consents",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("policy_version", sa.String(16), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "policy_version ~ '^[0-9]{4}-[0-9]{2}$'", name=op.f("ck_guardian_consents_policy_version_format")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_guardian_consents_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_guardian_consents_child_id_children"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_consents")),
        sa.UniqueConstraint(
            "child_id",
            "account_id",
            "policy_version",
            name=op.f("uq_guardian_consents_child_id_account_id_policy_version"),
        ),
    )
    op.create_index("ix_guardian_consents_account_id", "guardian_consents", ["account_id"])

    op.add_column("children", sa.Column("name_enc", sa.LargeBinary(), nullable=True))
    op.add_column("children", sa.Column("birth_date_enc", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    keys = _keys()
    rows = bind.execute(sa.text("SELECT id, name, birth_date FROM children")).all()
    update = sa.text("UPDATE children SET name_enc = :name, birth_date_enc = :birth_date WHERE id = :id")
    for start in range(0, len(rows), BATCH):
        bind.execute(
            update,
            [
                {
                    "id": r.id,
                    "name": keys.encrypt("children.name", r.name.encode()),
                    "birth_date": keys.encrypt("children.birth_date", r.birth_date.isoformat().encode()),
                }
                for r in rows[start : start + BATCH]
            ],
        )
    # The blind index: one fingerprint per guardian and child; a guardian's older duplicates stay NULL.
    op.add_column("guardianships", sa.Column("child_fingerprint", sa.LargeBinary(), nullable=True))
    seen: set[tuple[object, bytes]] = set()
    fingerprints = []
    by_child = {r.id: r for r in rows}
    for g in bind.execute(sa.text("SELECT child_id, account_id FROM guardianships ORDER BY created_at, child_id")):
        child = by_child[g.child_id]
        fingerprint = keys.fingerprint(child.name, child.birth_date)
        if (g.account_id, fingerprint) not in seen:
            seen.add((g.account_id, fingerprint))
            fingerprints.append({"c": g.child_id, "a": g.account_id, "f": fingerprint})
    for start in range(0, len(fingerprints), BATCH):
        bind.execute(
            sa.text("UPDATE guardianships SET child_fingerprint = :f WHERE child_id = :c AND account_id = :a"),
            fingerprints[start : start + BATCH],
        )
    op.create_unique_constraint(
        op.f("uq_guardianships_account_id_child_fingerprint"), "guardianships", ["account_id", "child_fingerprint"]
    )
    op.drop_constraint(op.f("ck_children_name_not_blank"), "children", type_="check")
    op.drop_column("children", "name")
    op.drop_column("children", "birth_date")
    op.alter_column("children", "name_enc", new_column_name="name", nullable=False)
    op.alter_column("children", "birth_date_enc", new_column_name="birth_date", nullable=False)
    op.create_check_constraint(
        op.f("ck_children_name_encrypted"), "children", "octet_length(name) >= 30 AND get_byte(name, 0) = 1"
    )
    op.create_check_constraint(
        op.f("ck_children_birth_date_encrypted"),
        "children",
        "octet_length(birth_date) >= 30 AND get_byte(birth_date, 0) = 1",
    )
    op.execute(CONSENT_FUNCTION)
    op.execute(CONSENT_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS children_require_consent ON children")
    op.execute("DROP FUNCTION IF EXISTS children_require_consent()")
    op.drop_index("ix_guardian_consents_account_id", table_name="guardian_consents")
    op.drop_table("guardian_consents")
    op.drop_constraint(op.f("uq_guardianships_account_id_child_fingerprint"), "guardianships", type_="unique")
    op.drop_column("guardianships", "child_fingerprint")

    op.add_column("children", sa.Column("name_plain", sa.String(50), nullable=True))
    op.add_column("children", sa.Column("birth_date_plain", sa.Date(), nullable=True))
    bind = op.get_bind()
    keys = _keys()
    rows = bind.execute(sa.text("SELECT id, name, birth_date FROM children")).all()
    update = sa.text("UPDATE children SET name_plain = :name, birth_date_plain = :birth_date WHERE id = :id")
    for start in range(0, len(rows), BATCH):
        bind.execute(
            update,
            [
                {
                    "id": r.id,
                    "name": keys.decrypt("children.name", bytes(r.name)).decode(),
                    "birth_date": dt.date.fromisoformat(
                        keys.decrypt("children.birth_date", bytes(r.birth_date)).decode()
                    ),
                }
                for r in rows[start : start + BATCH]
            ],
        )
    op.drop_constraint(op.f("ck_children_name_encrypted"), "children", type_="check")
    op.drop_constraint(op.f("ck_children_birth_date_encrypted"), "children", type_="check")
    op.drop_column("children", "name")
    op.drop_column("children", "birth_date")
    op.alter_column("children", "name_plain", new_column_name="name", nullable=False)
    op.alter_column("children", "birth_date_plain", new_column_name="birth_date", nullable=False)
    op.create_check_constraint(op.f("ck_children_name_not_blank"), "children", "length(btrim(name)) > 0")
