"""reports

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 09:00:00.000000

One row per client and month for the monthly report (issue 13): due on the 1st of the next
month in the client's zone, queued once by the report step or ``maild report --send``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed_step', sa.String(length=20), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('outbound_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound.id'], name='fk_report_run_outbound_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'month', name='uq_report_run')
    )
    with op.batch_alter_table('report_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_run_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_run_stage'), ['stage'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_run_stage'))
        batch_op.drop_index(batch_op.f('ix_report_run_due_at'))

    op.drop_table('report_run')
