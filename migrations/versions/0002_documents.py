"""Documents parsed from captured pages: metadata, text, captions, links, reference entries.

Every row names the WARC record it was parsed from and the parser and version that produced it;
re-parsing adds rows and keeps the older ones.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id"), nullable=False),
        sa.Column("parser", sa.String(64), nullable=False),
        sa.Column("parser_version", sa.String(32), nullable=False),
        sa.Column("parsed_at", sa.DateTime, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("published", sa.String(40)),
        sa.Column("updated", sa.String(40)),
        sa.Column("language", sa.String(16)),
        sa.Column("canonical", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("encoding", sa.String(32)),
        sa.Column("encoding_source", sa.String(16)),
        sa.Column("body_found_by", sa.Text),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("warnings", sa.Text, nullable=False),
    )
    op.create_index("ix_documents_record", "documents", ["record_id"])
    op.create_index("ix_documents_url", "documents", ["url"])
    op.create_table(
        "captions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("credit", sa.Text),
        sa.Column("image_url", sa.Text),
    )
    op.create_index("ix_captions_document", "captions", ["document_id"])
    op.create_table(
        "links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("context", sa.Text, nullable=False),
    )
    op.create_index("ix_links_document", "links", ["document_id"])
    op.create_index("ix_links_url", "links", ["url"])
    op.create_table(
        "reference_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("publisher", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("language", sa.Text),
        sa.Column("url", sa.Text),
    )
    op.create_index("ix_reference_entries_document", "reference_entries", ["document_id"])


def downgrade() -> None:
    op.drop_table("reference_entries")
    op.drop_table("links")
    op.drop_table("captions")
    op.drop_table("documents")
