"""reply path

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:43:56.734353

Drafts, the decision-maker's decisions and comments on a case; an outbound platform reply
names its draft (unique: one platform reply per draft).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('platform_to', sa.String(length=500), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('blocked_by', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['message.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'version', name='uq_draft_case_version')
    )
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_draft_state'), ['state'], unique=False)

    op.create_table('comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('author', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], ),
    sa.ForeignKeyConstraint(['draft_id'], ['draft.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['message.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_case_id'), ['case_id'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('by', sa.String(length=500), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('evidence', sa.String(length=1000), nullable=False),
    sa.Column('first_pass', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['draft.id'], ),
    sa.ForeignKeyConstraint(['evidence_id'], ['message.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_draft_id'), ['draft_id'], unique=False)

    with op.batch_alter_table('outbound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_outbound_draft_id', ['draft_id'])
        batch_op.create_foreign_key('fk_outbound_draft_id', 'draft', ['draft_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('outbound', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbound_draft_id', type_='foreignkey')
        batch_op.drop_constraint('uq_outbound_draft_id', type_='unique')
        batch_op.drop_column('draft_id')

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_draft_id'))

    op.drop_table('decision')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_case_id'))

    op.drop_table('comment')
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_state'))
        batch_op.drop_index(batch_op.f('ix_draft_case_id'))

    op.drop_table('draft')
