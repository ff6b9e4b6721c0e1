"""the Atom feed of alerts: one entry per alert event, whatever channels it went to; documents by their current
content, which the findings explorer joins on

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feed_entries',
                    sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
                    sa.Column('key', sa.String(300), nullable=False, unique=True),
                    sa.Column('category', sa.String(30), nullable=False),
                    sa.Column('severity', sa.String(10), nullable=False),
                    sa.Column('title', sa.Text(), nullable=False),
                    sa.Column('body', sa.Text(), nullable=False),
                    sa.Column('document_id', sa.Integer(), sa.ForeignKey('documents.id'), nullable=True),
                    sa.Column('source_id', sa.String(100), nullable=True),
                    sa.Column('region', sa.String(200), nullable=True),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False))
    for column in ('category', 'source_id', 'region', 'created_at'):
        op.create_index(f'ix_feed_entries_{column}', 'feed_entries', [column])
    op.create_index('ix_documents_current_sha256', 'documents', ['current_sha256'])


def downgrade() -> None:
    op.drop_index('ix_documents_current_sha256', table_name='documents')
    op.drop_table('feed_entries')
