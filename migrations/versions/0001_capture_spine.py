"""Capture spine: capture events, WARC files, fetch attempts and records.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "capture_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("tool_version", sa.String(32), nullable=False),
        sa.Column("operator", sa.Text, nullable=False),
        sa.Column("hostname", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("seeds", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
    )
    op.create_table(
        "warc_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("filename", sa.Text, nullable=False, unique=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("capture_event_id", sa.Integer, sa.ForeignKey("capture_events.id")),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("size", sa.BigInteger),
        sa.Column("sha256", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("warcinfo_id", sa.Text),
    )
    op.create_table(
        "fetches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("capture_event_id", sa.Integer, sa.ForeignKey("capture_events.id"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("parent_fetch_id", sa.Integer, sa.ForeignKey("fetches.id")),
        sa.Column("link_kind", sa.String(16)),
        sa.Column("link_text", sa.Text),
        sa.Column("redirect_from_id", sa.Integer, sa.ForeignKey("fetches.id")),
        sa.Column("duplicate_of_id", sa.Integer, sa.ForeignKey("fetches.id")),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("error_kind", sa.String(32)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_fetches_url", "fetches", ["url"])
    op.create_index("ix_fetches_event", "fetches", ["capture_event_id"])
    op.create_table(
        "records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("warc_record_id", sa.Text, nullable=False, unique=True),
        sa.Column("capture_event_id", sa.Integer, sa.ForeignKey("capture_events.id")),
        sa.Column("fetch_id", sa.Integer, sa.ForeignKey("fetches.id")),
        sa.Column("warc_file_id", sa.Integer, sa.ForeignKey("warc_files.id"), nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("length", sa.BigInteger, nullable=False),
        sa.Column("record_type", sa.String(16), nullable=False),
        sa.Column("target_uri", sa.Text),
        sa.Column("warc_date", sa.DateTime, nullable=False),
        sa.Column("content_type", sa.Text),
        sa.Column("content_length", sa.BigInteger, nullable=False),
        sa.Column("block_sha256", sa.String(64), nullable=False),
        sa.Column("payload_sha256", sa.String(64)),
        sa.Column("block_digest", sa.Text),
        sa.Column("payload_digest", sa.Text),
        sa.Column("http_status", sa.Integer),
        sa.Column("http_reason", sa.Text),
        sa.Column("http_content_type", sa.Text),
        sa.Column("http_headers", sa.Text),
        sa.Column("peer_ip", sa.String(45)),
        sa.Column("role", sa.String(16)),
        sa.Column("concurrent_to", sa.Text),
        sa.Column("refers_to", sa.Text),
        sa.Column("truncated", sa.String(16)),
    )
    op.create_index("ix_records_target_date", "records", ["target_uri", "warc_date"])
    op.create_index("ix_records_payload", "records", ["payload_sha256"])
    op.create_index("ix_records_file_offset", "records", ["warc_file_id", "offset"])


def downgrade() -> None:
    op.drop_table("records")
    op.drop_table("fetches")
    op.drop_table("warc_files")
    op.drop_table("capture_events")
