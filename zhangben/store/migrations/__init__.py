"""Alembic migrations (``versions/``, one linear history) and their helpers (``ledger_edits``)."""
