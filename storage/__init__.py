"""Persistence: SQLAlchemy 2 models, engine and session factories, Alembic migrations.

Nothing here imports the core (``bot``), ``digests`` or any adapter.
"""
