"""crawl run lease: a run whose worker died is recovered instead of staying running

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crawl_runs') as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ix_crawl_runs_status', 'crawl_runs', ['status'])


def downgrade() -> None:
    op.drop_index('ix_crawl_runs_status', table_name='crawl_runs')
    with op.batch_alter_table('crawl_runs') as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('lease_until')
