"""Re-crawls: revisit links, fingerprints per extraction, schedules, leases and classified changes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FINGERPRINTS = ("fp_title", "fp_dates", "fp_body", "fp_captions", "fp_citations")


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("revisit_of_id", sa.Integer))
        batch.add_column(sa.Column("revisit_profile", sa.Text))
        batch.create_foreign_key("fk_records_revisit_of", "records", ["revisit_of_id"], ["id"])
        batch.create_index("ix_records_fetch", ["fetch_id"])
    with op.batch_alter_table("documents") as batch:
        for name in FINGERPRINTS:
            batch.add_column(sa.Column(name, sa.String(64)))
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("interval_seconds", sa.Integer, nullable=False),
        sa.Column("next_due_at", sa.DateTime, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_run_at", sa.DateTime),
        sa.Index("ix_schedules_due", "enabled", "next_due_at"),
    )
    op.create_table(
        "leases",
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("holder", sa.String(36), nullable=False),
        sa.Column("hostname", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("acquired_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("capture_event_id", sa.Integer, sa.ForeignKey("capture_events.id"), nullable=False),
        sa.Column("fetch_id", sa.Integer, sa.ForeignKey("fetches.id")),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id")),
        sa.Column("previous_record_id", sa.Integer, sa.ForeignKey("records.id")),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("change", sa.String(24), nullable=False),
        sa.Column("changed", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Index("ix_changes_url_at", "url", "at"),
        sa.Index("ix_changes_at", "at"),
    )


def downgrade() -> None:
    op.drop_table("changes")
    op.drop_table("leases")
    op.drop_table("schedules")
    with op.batch_alter_table("documents") as batch:
        for name in FINGERPRINTS:
            batch.drop_column(name)
    with op.batch_alter_table("records") as batch:
        batch.drop_index("ix_records_fetch")
        batch.drop_constraint("fk_records_revisit_of", type_="foreignkey")
        batch.drop_column("revisit_profile")
        batch.drop_column("revisit_of_id")
