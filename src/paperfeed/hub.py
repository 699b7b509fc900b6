"""Hub: the composition root that builds the real parts (store, search, mail) from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from paperfeed.db import Database
from paperfeed.settings import Settings


@dataclass
class Hub:
    """Everything a request, a command or a job needs, built once."""

    settings: Settings
    db: Database

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, migrate: bool = True) -> Hub:
        """Build the real parts; apply migrations unless told not to."""
        settings = settings or Settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(
            settings.resolved_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        if migrate:
            db.migrate()
        return cls(settings=settings, db=db)

    def close(self) -> None:
        self.db.dispose()
