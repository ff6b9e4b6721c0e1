"""fetch lease: a fetch whose worker died is recovered instead of staying in progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('document_urls') as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fetch_attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('document_urls') as batch_op:
        batch_op.drop_column('fetch_attempts')
        batch_op.drop_column('lease_until')
