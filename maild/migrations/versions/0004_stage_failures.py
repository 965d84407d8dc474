"""stage failures: the failed step and the attempt count of a message row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_step', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0',
                                      nullable=False))
    # Rows quarantined before this revision failed in the only step there was.
    op.execute("UPDATE message SET failed_step = 'parse', attempts = 1 "
               "WHERE stage = 'quarantined'")


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('failed_step')
