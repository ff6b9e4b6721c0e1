"""findings in descending amount and rate with those that have none last, as the explorer lists them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':  # SQLite has no NULLS LAST in an index
        return
    op.create_index('ix_findings_rate_desc', 'findings', [sa.text('rate DESC NULLS LAST')])
    op.create_index('ix_findings_amount_desc', 'findings', [sa.text('amount DESC NULLS LAST')])


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_findings_amount_desc', table_name='findings')
    op.drop_index('ix_findings_rate_desc', table_name='findings')
