"""A small store of three topics (words chosen so the FakeEmbedder's vectors cluster by topic):
older papers for readers to signal, and a window of newer ones to recommend from."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import insert

from paperfeed.db import Database
from paperfeed.db.feed import feature_papers
from paperfeed.db.papers import upsert_papers
from paperfeed.db.schema import users
from paperfeed.hub import Hub
from paperfeed.models import Featuring, PaperRecord
from paperfeed.search.indexer import embed_papers
from paperfeed.settings import Settings
from tests.search.fakes import FakeEmbedder

TOPICS = {
    "graph": (
        "cs.LG",
        "graph neural message passing node edge molecule convolution spectral vertex",
    ),
    "quantum": (
        "quant-ph",
        "quantum qubit error correction surface code gate entanglement decoherence photon",
    ),
    "language": (
        "cs.CL",
        "language token translation speech prompt grammar corpus dialogue parsing lexicon",
    ),
}
OLD_DAY = dt.date(2026, 3, 2)
WINDOW = dt.date(2026, 3, 16)
DIM = 256


@dataclass(frozen=True)
class Paper:
    paper_id: str
    topic: str
    old: bool


def _papers() -> list[tuple[Paper, PaperRecord]]:
    rng = random.Random(7)
    made = []
    for topic, (category, vocabulary) in TOPICS.items():
        words = vocabulary.split()
        for i in range(18):
            old = i < 6
            pid = f"2603.{len(made):05d}"
            title = " ".join(rng.sample(words, 4)) + f" study {topic}{i}"
            abstract = " ".join(rng.choices(words, k=30)) + " we propose results"
            day = OLD_DAY + dt.timedelta(days=i % 3) if old else WINDOW + dt.timedelta(days=i % 3)
            record = PaperRecord(
                paper_id=pid,
                title=title.capitalize(),
                abstract=abstract,
                categories=(category,),
                primary_category=category,
                announced=day,
                submitted=dt.datetime.combine(day, dt.time(9)),
            )
            made.append((Paper(pid, topic, old), record))
    return made


PAPERS = _papers()


@pytest.fixture(scope="session")
def topic_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("topic-store")
    db = Database(f"sqlite:///{folder / 'paperfeed.db'}")
    db.migrate()
    with db.write() as conn:
        upsert_papers(conn, [record for _, record in PAPERS])
        feature_papers(
            conn,
            [
                Featuring(record.paper_id, record.announced, "test")
                for paper, record in PAPERS
                if not paper.old and record.announced is not None
            ],
        )
    embed_papers(db, FakeEmbedder(dim=DIM))
    db.dispose()
    return folder


@pytest.fixture
def hub(topic_store: Path, tmp_path: Path) -> Iterator[Hub]:
    data = tmp_path / "data"
    shutil.copytree(topic_store, data)
    made = Hub(
        settings=Settings(data_dir=data, semantic_search=False),
        db=Database(f"sqlite:///{data / 'paperfeed.db'}"),
        embedder=FakeEmbedder(dim=DIM),
    )
    yield made
    made.close()


def make_reader(hub: Hub, email: str) -> int:
    with hub.db.write() as conn:
        user_id: int = conn.execute(
            insert(users)
            .values(email=email, created_at=dt.datetime(2026, 3, 1))
            .returning(users.c.user_id)
        ).scalar_one()
    return user_id


def ids(topic: str, *, old: bool) -> list[str]:
    return [p.paper_id for p, _ in PAPERS if p.topic == topic and p.old == old]


def topic_of(paper_id: str) -> str:
    return next(p.topic for p, _ in PAPERS if p.paper_id == paper_id)


def title_of(paper_id: str) -> str:
    return next(r.title for _, r in PAPERS if r.paper_id == paper_id)
