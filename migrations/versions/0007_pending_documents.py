"""Pages whose document is parsed later (``archiver capture --parse later``).

``pending_documents``: one row per response record of a page whose document a capture left to
``archiver parse``; that command catalogues the document and deletes the row in one transaction.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_documents",
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id"), primary_key=True, autoincrement=False),
        sa.Column("queued_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pending_documents")
