"""The tag (or CSS construct) of the link each fetch followed (``img``, ``iframe``, ``css-import``, ``a`` ...).

``fetches.link_tag``: what referred to a requisite or a cited page in the page it was found on (the
``tag`` of :class:`archiver.parse.Link`); NULL for seeds, robots.txt, confirming re-fetches, and for
fetches catalogued before this revision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ALTER TABLE ADD COLUMN: a batch operation would copy the table, which rows of others refer to
    op.add_column("fetches", sa.Column("link_tag", sa.String(16)))


def downgrade() -> None:
    op.drop_column("fetches", "link_tag")
