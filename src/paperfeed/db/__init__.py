"""The store: the only package that writes SQL (SQLAlchemy 2 Core, Alembic migrations)."""

from paperfeed.db.engine import Database

__all__ = ["Database"]
