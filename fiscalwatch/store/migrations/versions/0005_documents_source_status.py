"""documents by source and status: the sources page counts them without reading the table

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:00:00
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_documents_source_status', 'documents', ['source_id', 'status'])


def downgrade() -> None:
    op.drop_index('ix_documents_source_status', table_name='documents')
