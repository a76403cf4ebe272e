"""Fixity events (each `archiver verify` run), full-text search over documents (SQLite FTS5), and the
indexes history and provenance look records up by.

``documents_fts`` holds, per document row (rowid = documents.id), its title, main text and captions
(each caption with its credit, one a line). ``Catalogue.insert_document`` adds the row in the same
transaction as the document; this revision fills it for documents that already exist. Other
databases than SQLite get no FTS table (`archiver search` says it needs SQLite).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fixity_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("files_checked", sa.Integer, nullable=False),
        sa.Column("records_checked", sa.Integer, nullable=False),
        sa.Column("bytes_read", sa.BigInteger, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("tool_version", sa.String(32), nullable=False),
        sa.Column("hostname", sa.Text, nullable=False),
        sa.Column("operator", sa.Text, nullable=False),
        sa.Column("command", sa.Text, nullable=False),
    )
    # what history, provenance and change classification look up by
    op.create_index("ix_records_concurrent", "records", ["concurrent_to"])
    op.create_index("ix_fetches_redirect", "fetches", ["redirect_from_id"])
    op.create_index("ix_fetches_parent", "fetches", ["parent_fetch_id"])
    op.create_index("ix_changes_record", "changes", ["record_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE documents_fts USING fts5(title, text, captions, "
                   "tokenize = 'unicode61 remove_diacritics 2')")
        op.execute("INSERT INTO documents_fts (rowid, title, text, captions) "
                   "SELECT d.id, coalesce(d.title, ''), d.text, coalesce((SELECT group_concat("
                   "c.text || coalesce(' / ' || c.credit, ''), char(10)) FROM captions c "
                   "WHERE c.document_id = d.id), '') FROM documents d")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE documents_fts")
    for table, index in (("changes", "ix_changes_record"), ("fetches", "ix_fetches_parent"),
                         ("fetches", "ix_fetches_redirect"), ("records", "ix_records_concurrent")):
        op.drop_index(index, table_name=table)
    op.drop_table("fixity_events")
