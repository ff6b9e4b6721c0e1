"""dashboard indexes: the filters and the overview's version keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:55:00
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_expectations_year_kind', 'expectations', ['year', 'kind'])
    op.create_index('ix_expectations_evaluated_at', 'expectations', ['evaluated_at'])
    op.create_index('ix_document_matches_matched_at', 'document_matches', ['matched_at'])
    op.create_index('ix_crawl_runs_source_id', 'crawl_runs', ['source_id'])


def downgrade() -> None:
    op.drop_index('ix_crawl_runs_source_id', table_name='crawl_runs')
    op.drop_index('ix_document_matches_matched_at', table_name='document_matches')
    op.drop_index('ix_expectations_evaluated_at', table_name='expectations')
    op.drop_index('ix_expectations_year_kind', table_name='expectations')
