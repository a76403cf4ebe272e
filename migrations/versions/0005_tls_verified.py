"""Whether each record's HTTPS certificate was verified (``--insecure`` captures say false).

``records.tls_verified``: true or false for the records of an https exchange, NULL for plain http,
for records that are not part of an exchange, and for records catalogued before this revision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ALTER TABLE ADD COLUMN: a batch operation would copy the table, which rows of others refer to
    op.add_column("records", sa.Column("tls_verified", sa.Boolean))


def downgrade() -> None:
    op.drop_column("records", "tls_verified")
