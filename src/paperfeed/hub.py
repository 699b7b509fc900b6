"""Hub: the composition root that builds the real parts (store, search, mail) from Settings."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from paperfeed.db import Database
from paperfeed.mail import Mailer, SenderFactory, build_senders
from paperfeed.settings import Settings

if TYPE_CHECKING:
    from paperfeed.search.embedder import Embedder
    from paperfeed.search.index import SearchIndex

logger = logging.getLogger(__name__)


@dataclass
class Hub:
    """Everything a request, a command or a job needs, built once.

    The embedder and the search indexes are built on first use, so commands that do not
    search start fast. Tests pass their own embedder (a `FakeEmbedder`) through the same seam.
    The mail senders (SMTP, or the development mailbox) are built once, from the settings
    unless given: digests and sign-in mail share them.
    """

    settings: Settings
    db: Database
    embedder: Embedder | None = None
    senders: SenderFactory | None = None
    mailer: Mailer | None = None
    _search_index: SearchIndex | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.senders is None:
            self.senders = build_senders(self.settings, self.db)
        if self.mailer is None:
            self.mailer = Mailer(self.senders, mail_from=self.settings.mail_from)

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
        embedder = None
        if settings.semantic_search:
            from paperfeed.search.embedder import default_embedder

            embedder = default_embedder(
                cache_dir=settings.data_dir / "models",
                device=settings.embedder_device,
                model=settings.embedding_model,
            )
        return cls(settings=settings, db=db, embedder=embedder)

    @property
    def search_index(self) -> SearchIndex:
        """The keyword and vector indexes beside the store, opened on first use."""
        if self._search_index is None:
            with self._lock:
                if self._search_index is None:
                    from paperfeed.search.index import KEYWORD_ONLY, SearchIndex, contract_of

                    contract = contract_of(self.embedder) if self.embedder else KEYWORD_ONLY
                    self._search_index = SearchIndex(
                        db=self.db, folder=self.settings.search_dir, contract=contract
                    )
        return self._search_index

    def close(self) -> None:
        if self._search_index is not None:
            self._search_index.keyword.close()
        self.db.dispose()
