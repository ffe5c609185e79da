"""Live updates: event positions in commit order with NOTIFY, Web Push subscriptions and deliveries,
notification preferences, WebSocket tickets, and notifications when sessions end.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

``events.position`` is the delivery order. A DEFERRABLE INITIALLY DEFERRED constraint trigger gives
each event its position at COMMIT, holding a transaction-scoped advisory lock until the commit ends:
positions therefore become visible in increasing order, and no smaller position can appear after a
reader has seen a larger one. Readers can follow ``position > last`` without ever missing an event.
The trigger also sends ``NOTIFY dq_events, '<position>'`` (delivered at commit). The price is that
the last moments of event-writing commits are serialized.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSITION_LOCK = 0x6471657674  # "dqevt"

STATEMENTS = [
    "CREATE SEQUENCE event_positions AS bigint",
    f"""
    CREATE FUNCTION events_assign_position() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        pos bigint;
    BEGIN
        PERFORM pg_advisory_xact_lock({POSITION_LOCK});
        pos := nextval('event_positions');
        UPDATE events SET position = pos WHERE id = NEW.id;
        PERFORM pg_notify('dq_events', pos::text);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER events_assign_position AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION events_assign_position()
    """,
    # A revoked session, or every session of a disabled account: open sockets close at once.
    """
    CREATE FUNCTION sessions_notify_end() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('dq_sessions', NEW.id::text);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER sessions_notify_end AFTER UPDATE OF revoked_at ON auth_sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION sessions_notify_end()
    """,
    """
    CREATE FUNCTION accounts_notify_disabled() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('dq_sessions', s.id::text) FROM auth_sessions s WHERE s.account_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER accounts_notify_disabled AFTER UPDATE OF disabled_at ON accounts
    FOR EACH ROW WHEN (OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL)
    EXECUTE FUNCTION accounts_notify_disabled()
    """,
]


def upgrade() -> None:
    op.create_table('delivery_cursors',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_delivery_cursors'))
    )
    op.create_table('notification_preferences',
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('websocket', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('push', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.CheckConstraint("category IN ('enrolment', 'bookings', 'notices', 'complaints')", name=op.f('ck_notification_preferences_category')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notification_preferences_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'category', name=op.f('pk_notification_preferences'))
    )
    op.create_table('push_subscriptions',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('endpoint', sa.String(length=1024), nullable=False),
    sa.Column('p256dh', sa.String(length=200), nullable=False),
    sa.Column('auth', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_push_subscriptions_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint'))
    )
    op.create_index('ix_push_subscriptions_account_id', 'push_subscriptions', ['account_id'], unique=False)
    op.create_table('push_deliveries',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('subscription_id', sa.UUID(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_push_deliveries_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['push_subscriptions.id'], name=op.f('fk_push_deliveries_subscription_id_push_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_deliveries'))
    )
    op.create_index('ix_push_deliveries_due', 'push_deliveries', ['next_attempt_at'], unique=False)
    op.create_table('ws_tickets',
    sa.Column('ticket_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['auth_sessions.id'], name=op.f('fk_ws_tickets_session_id_auth_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_hash', name=op.f('pk_ws_tickets'))
    )
    op.add_column('events', sa.Column('position', sa.BigInteger(), nullable=True))
    op.create_unique_constraint(op.f('uq_events_position'), 'events', ['position'])
    for statement in STATEMENTS:
        op.execute(statement)
    # Events written before this migration get positions in id order; the push fan-out starts after them.
    op.execute("UPDATE events SET position = nextval('event_positions') FROM (SELECT id FROM events ORDER BY id) o "
               "WHERE events.id = o.id")
    op.execute("INSERT INTO delivery_cursors (name, position) SELECT 'push', coalesce(max(position), 0) FROM events")


def downgrade() -> None:
    op.execute("DROP TRIGGER accounts_notify_disabled ON accounts")
    op.execute("DROP FUNCTION accounts_notify_disabled()")
    op.execute("DROP TRIGGER sessions_notify_end ON auth_sessions")
    op.execute("DROP FUNCTION sessions_notify_end()")
    op.execute("DROP TRIGGER events_assign_position ON events")
    op.execute("DROP FUNCTION events_assign_position()")
    op.execute("DROP SEQUENCE event_positions")
    op.drop_constraint(op.f('uq_events_position'), 'events', type_='unique')
    op.drop_column('events', 'position')
    op.drop_table('ws_tickets')
    op.drop_index('ix_push_deliveries_due', table_name='push_deliveries')
    op.drop_table('push_deliveries')
    op.drop_index('ix_push_subscriptions_account_id', table_name='push_subscriptions')
    op.drop_table('push_subscriptions')
    op.drop_table('notification_preferences')
    op.drop_table('delivery_cursors')
