"""Parent committees and notices: committee terms (one live term per parent, one chair at a time,
as exclusion constraints), notices with revisions and soft deletion, read receipts, consultations
with named or anonymous answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('committee_members',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('term_start', sa.Date(), nullable=False),
    sa.Column('term_end', sa.Date(), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.UUID(), nullable=True),
    postgresql.ExcludeConstraint((sa.column('institution_id'), '='), (sa.column('account_id'), '='), (sa.text("daterange(term_start, term_end, '[]')"), '&&'), where=sa.text('ended_at IS NULL'), using='gist', name='ex_committee_members_one_term'),
    postgresql.ExcludeConstraint((sa.column('institution_id'), '='), (sa.text("daterange(term_start, term_end, '[]')"), '&&'), where=sa.text("role = 'chair' AND ended_at IS NULL"), using='gist', name='ex_committee_members_one_chair'),
    sa.CheckConstraint("role IN ('member', 'chair')", name=op.f('ck_committee_members_role')),
    sa.CheckConstraint("source IN ('appointed', 'elected')", name=op.f('ck_committee_members_source')),
    sa.CheckConstraint('term_end >= term_start', name=op.f('ck_committee_members_term_order')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_committee_members_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_committee_members_created_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ended_by'], ['accounts.id'], name=op.f('fk_committee_members_ended_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_committee_members_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_members'))
    )
    op.create_index('ix_committee_members_account_id', 'committee_members', ['account_id'], unique=False)
    op.create_table('notices',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('audience', sa.String(length=12), nullable=False),
    sa.Column('class_id', sa.UUID(), nullable=True),
    sa.Column('author_id', sa.UUID(), nullable=False),
    sa.Column('posted_as', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_format', sa.String(length=8), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('pinned', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('urgent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('publish_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by', sa.UUID(), nullable=True),
    sa.CheckConstraint("(audience = 'class') = (class_id IS NOT NULL)", name=op.f('ck_notices_class_audience')),
    sa.CheckConstraint("audience IN ('institution', 'class', 'committee')", name=op.f('ck_notices_audience')),
    sa.CheckConstraint("body_format IN ('plain', 'markdown')", name=op.f('ck_notices_body_format')),
    sa.CheckConstraint("posted_as IN ('staff', 'committee')", name=op.f('ck_notices_posted_as')),
    sa.CheckConstraint('(deleted_at IS NULL) = (deleted_by IS NULL)', name=op.f('ck_notices_deleted_with_who')),
    sa.CheckConstraint('expires_at IS NULL OR expires_at > publish_at', name=op.f('ck_notices_expires_after_publish')),
    sa.CheckConstraint('length(body) <= 10000', name=op.f('ck_notices_body_length')),
    sa.CheckConstraint('length(btrim(title)) > 0', name=op.f('ck_notices_title_not_blank')),
    sa.ForeignKeyConstraint(['author_id'], ['accounts.id'], name=op.f('fk_notices_author_id_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_notices_class_id_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deleted_by'], ['accounts.id'], name=op.f('fk_notices_deleted_by_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_notices_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    op.create_index('ix_notices_due', 'notices', ['publish_at'], unique=False, postgresql_where=sa.text('published_at IS NULL AND deleted_at IS NULL'))
    op.create_index('ix_notices_feed', 'notices', ['institution_id', sa.literal_column('published_at DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('consultations',
    sa.Column('notice_id', sa.UUID(), nullable=False),
    sa.Column('question', sa.String(length=200), nullable=False),
    sa.Column('choice_mode', sa.String(length=8), nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('allow_text', sa.Boolean(), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.CheckConstraint("CASE choice_mode WHEN 'none' THEN jsonb_array_length(options) = 0 AND allow_text ELSE jsonb_array_length(options) BETWEEN 2 AND 10 END", name=op.f('ck_consultations_options_match_mode')),
    sa.CheckConstraint("choice_mode IN ('none', 'single', 'multiple')", name=op.f('ck_consultations_choice_mode')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_consultations_notice_id_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', name=op.f('pk_consultations'))
    )
    op.create_table('notice_reads',
    sa.Column('notice_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notice_reads_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_reads_notice_id_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', 'account_id', name=op.f('pk_notice_reads'))
    )
    op.create_index('ix_notice_reads_account_id', 'notice_reads', ['account_id'], unique=False)
    op.create_table('notice_revisions',
    sa.Column('notice_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.SmallInteger(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_format', sa.String(length=8), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('publish_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('edited_by', sa.UUID(), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['edited_by'], ['accounts.id'], name=op.f('fk_notice_revisions_edited_by_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_revisions_notice_id_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', 'version', name=op.f('pk_notice_revisions'))
    )
    op.create_table('consultation_answers',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('notice_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=True),
    sa.Column('receipt_hash', sa.LargeBinary(length=32), nullable=True),
    sa.Column('choices', postgresql.ARRAY(sa.SmallInteger()), server_default='{}', nullable=False),
    sa.Column('free_text', sa.String(length=1000), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(account_id IS NULL) <> (receipt_hash IS NULL)', name=op.f('ck_consultation_answers_named_or_receipt')),
    sa.CheckConstraint('(account_id IS NULL) = (answered_at IS NULL)', name=op.f('ck_consultation_answers_anonymous_untimed')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_consultation_answers_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['consultations.notice_id'], name=op.f('fk_consultation_answers_notice_id_consultations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_answers')),
    sa.UniqueConstraint('notice_id', 'account_id', name='uq_consultation_answers_one_per_account'),
    sa.UniqueConstraint('receipt_hash', name='uq_consultation_answers_receipt_hash')
    )
    op.create_table('consultation_participants',
    sa.Column('notice_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_consultation_participants_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['consultations.notice_id'], name=op.f('fk_consultation_participants_notice_id_consultations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', 'account_id', name=op.f('pk_consultation_participants'))
    )


def downgrade() -> None:
    op.drop_table('consultation_participants')
    op.drop_table('consultation_answers')
    op.drop_table('notice_revisions')
    op.drop_index('ix_notice_reads_account_id', table_name='notice_reads')
    op.drop_table('notice_reads')
    op.drop_table('consultations')
    op.drop_index('ix_notices_feed', table_name='notices', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_notices_due', table_name='notices', postgresql_where=sa.text('published_at IS NULL AND deleted_at IS NULL'))
    op.drop_table('notices')
    op.drop_index('ix_committee_members_account_id', table_name='committee_members')
    op.drop_table('committee_members')
