"""digests

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 08:16:00.559545
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed_step', sa.String(length=20), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'audience', 'due_at', name='uq_digest')
    )
    with op.batch_alter_table('digest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_digest_stage'), ['stage'], unique=False)

    op.create_table('digest_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], ),
    sa.ForeignKeyConstraint(['digest_id'], ['digest.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('digest_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_entry_digest_id'), ['digest_id'],
                              unique=False)



def downgrade() -> None:
    with op.batch_alter_table('digest_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_entry_digest_id'))

    op.drop_table('digest_entry')
    with op.batch_alter_table('digest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_stage'))
        batch_op.drop_index(batch_op.f('ix_digest_due_at'))

    op.drop_table('digest')
