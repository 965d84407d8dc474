"""routing: cases, case keys, ticket counter, outbound, receipts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 08:00:35.563844
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('support_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket', sa.String(length=20), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=True),
    sa.Column('store_name', sa.String(length=200), nullable=True),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('marketplace', sa.String(length=40), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('priority', sa.String(length=2), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('subject_key', sa.String(length=500), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket')
    )
    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_case_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_case_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_case_priority'), ['priority'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_case_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_case_subject_key'), ['subject_key'],
                              unique=False)

    op.create_table('ticket_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('case_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=998), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', 'value', name='uq_case_key')
    )
    with op.batch_alter_table('case_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_key_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_key_value'), ['value'], unique=False)

    op.create_table('outbound',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('archived_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=False),
    sa.Column('sender', sa.String(length=500), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed_step', sa.String(length=20), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['archived_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('outbound', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_next_try_at'), ['next_try_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_stage'), ['stage'], unique=False)

    op.create_table('receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbound_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('queue_id', sa.String(length=200), nullable=True),
    sa.Column('refused', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_outbound_id'), ['outbound_id'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_message_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key('fk_message_case_id', 'support_case', ['case_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_message_case_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_message_case_id'))
        batch_op.drop_column('case_id')

    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_outbound_id'))

    op.drop_table('receipt')
    with op.batch_alter_table('outbound', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_stage'))
        batch_op.drop_index(batch_op.f('ix_outbound_next_try_at'))
        batch_op.drop_index(batch_op.f('ix_outbound_kind'))
        batch_op.drop_index(batch_op.f('ix_outbound_case_id'))

    op.drop_table('outbound')
    with op.batch_alter_table('case_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_key_value'))
        batch_op.drop_index(batch_op.f('ix_case_key_case_id'))

    op.drop_table('case_key')
    op.drop_table('ticket_counter')
    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_case_subject_key'))
        batch_op.drop_index(batch_op.f('ix_support_case_state'))
        batch_op.drop_index(batch_op.f('ix_support_case_priority'))
        batch_op.drop_index(batch_op.f('ix_support_case_deadline'))
        batch_op.drop_index(batch_op.f('ix_support_case_client_id'))

    op.drop_table('support_case')
