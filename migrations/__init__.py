"""Alembic revisions of the catalogue schema, installed as ``archiver.migrations``."""
