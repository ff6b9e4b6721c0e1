"""documents compared with each other: parsed contents kept, findings that name a second document, and the
amount and rate the findings explorer sorts by

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:20:00
"""

import sqlalchemy as sa
from alembic import op

from fiscalwatch.store.models import _amount, _number

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blob_contents',
                    sa.Column('sha256', sa.String(64), sa.ForeignKey('blobs.sha256'), primary_key=True),
                    sa.Column('content', sa.JSON(), nullable=False))
    with op.batch_alter_table('findings') as batch_op:
        batch_op.add_column(sa.Column('other_sha256', sa.String(64), nullable=True))
        batch_op.add_column(sa.Column('amount', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('rate', sa.Float(), nullable=True))
        batch_op.create_foreign_key('fk_findings_other_sha256', 'blobs', ['other_sha256'], ['sha256'])
        batch_op.create_index('ix_findings_other_sha256', ['other_sha256'])
        batch_op.create_index('ix_findings_category_severity', ['category', 'severity'])
        batch_op.create_index('ix_findings_rule', ['rule'])
        batch_op.create_index('ix_findings_rate', ['rate'])
        batch_op.create_index('ix_findings_amount', ['amount'])
    findings = sa.table('findings', sa.column('id', sa.Integer), sa.column('evidence', sa.JSON),
                        sa.column('amount', sa.Float), sa.column('rate', sa.Float))
    connection = op.get_bind()
    for id_, evidence in connection.execute(sa.select(findings.c.id, findings.c.evidence)).all():
        evidence = evidence or {}
        connection.execute(findings.update().where(findings.c.id == id_).values(
            amount=_amount(evidence), rate=_number(evidence.get('rate'))))


def downgrade() -> None:
    with op.batch_alter_table('findings') as batch_op:
        for index in ('ix_findings_amount', 'ix_findings_rate', 'ix_findings_rule', 'ix_findings_category_severity',
                      'ix_findings_other_sha256'):
            batch_op.drop_index(index)
        batch_op.drop_constraint('fk_findings_other_sha256', type_='foreignkey')
        for column in ('rate', 'amount', 'other_sha256'):
            batch_op.drop_column(column)
    op.drop_table('blob_contents')
