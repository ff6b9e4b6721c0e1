"""ocr_unread: scanned pages a file's first read left at its OCR budget, read whole when the parse queue is idle

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('blobs') as batch_op:
        batch_op.add_column(sa.Column('ocr_unread', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('blobs') as batch_op:
        batch_op.drop_column('ocr_unread')
