"""How long For you takes for readers with chosen categories and saved searches
(recommend/topics.py) on a store with the bundled demo (`paperfeed init` in
PAPERFEED_DATA_DIR first).

    PAPERFEED_DATA_DIR=/tmp/bench-data .venv/bin/paperfeed init
    OPENBLAS_NUM_THREADS=1 PAPERFEED_DATA_DIR=/tmp/bench-data .venv/bin/python bench/topics.py

Prints recommend() for: a reader with 10 saved searches (first call: the searches run; then
warm: their seeds cached), one with 3 chosen categories only (a cold start), and 200 readers
sharing those 10 searches (what a digest does: the searches run once). `--until 2026-03-20`
ranks the bundled arXiv week (2,027 papers) instead of the demo's feed week.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from sqlalchemy import insert

from paperfeed.db.feed import home_day
from paperfeed.db.schema import users
from paperfeed.hub import Hub
from paperfeed.recommend import recommend, window_pool
from paperfeed.recommend.service import FOR_YOU_DAYS
from paperfeed.recommend.topics import SEED_CACHE, hub_categories, set_reader_topics

SEARCHES = [
    "diffusion models for image generation",
    "large language model reasoning",
    "reinforcement learning from human feedback",
    "video generation",
    "mixture of experts",
    "retrieval augmented generation",
    "speech recognition",
    "3d reconstruction from images",
    "model quantization and compression",
    "multimodal vision language models",
]


def reader(hub: Hub, email: str) -> int:
    with hub.db.write() as conn:
        user_id: int = conn.execute(
            insert(users)
            .values(email=email, created_at=dt.datetime(2024, 4, 1))
            .returning(users.c.user_id)
        ).scalar_one()
    return user_id


def timed(call: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--until",
        type=dt.date.fromisoformat,
        help="last day of the window (default: the feed's latest day; 2026-03-20 for the "
        "bundled arXiv week)",
    )
    args = parser.parse_args()
    hub = Hub.from_settings()
    with hub.db.read() as conn:
        until = args.until or home_day(conn)
    assert until is not None, "no feed day: run `paperfeed init` first"
    since = until - dt.timedelta(days=FOR_YOU_DAYS - 1)
    index = hub.search_index
    index.ensure_fresh()
    pool = window_pool(index, since=since, until=until)
    assert pool is not None
    print(f"window {since} .. {until}: {len(pool.pool.ids)} candidates")
    stamp = time.time_ns()
    searcher = reader(hub, f"searches-{stamp}@example.org")
    set_reader_topics(
        db=hub.db, search_index=hub.search_index, user_id=searcher, categories=[], searches=SEARCHES
    )

    def run(user_id: int) -> int:
        return len(
            recommend(
                hub.db,
                search_index=index,
                embedder=hub.embedder,
                user_id=user_id,
                since=since,
                until=until,
                limit=30,
                pool=pool,
            )
        )

    SEED_CACHE.clear()
    run(searcher)  # the embedder's first call loads the model: not counted
    SEED_CACHE.clear()
    [cold] = timed(lambda: run(searcher), 1)
    warm = timed(lambda: run(searcher), 20)
    print(
        f"10 saved searches: first call {cold:.0f} ms (10 hybrid searches), warm median "
        f"{statistics.median(warm):.1f} ms, max {max(warm):.1f} ms"
    )
    categories = [name for name, _ in hub_categories(hub.search_index)[:3]]
    chooser = reader(hub, f"categories-{stamp}@example.org")
    set_reader_topics(
        db=hub.db,
        search_index=hub.search_index,
        user_id=chooser,
        categories=categories,
        searches=[],
    )
    SEED_CACHE.clear()
    [cold] = timed(lambda: run(chooser), 1)
    warm = timed(lambda: run(chooser), 20)
    print(
        f"3 categories only ({', '.join(categories)}): first call {cold:.0f} ms, warm median "
        f"{statistics.median(warm):.1f} ms; picks {run(chooser)}"
    )
    many = [reader(hub, f"digest-{stamp}-{i}@example.org") for i in range(200)]
    for user_id in many:
        set_reader_topics(
            db=hub.db,
            search_index=hub.search_index,
            user_id=user_id,
            categories=categories,
            searches=SEARCHES,
        )
    SEED_CACHE.clear()
    start = time.perf_counter()
    for user_id in many:
        run(user_id)
    total = time.perf_counter() - start
    print(
        f"200 readers with the same 10 searches and 3 categories: {total:.2f} s "
        f"({total / len(many) * 1000:.1f} ms each; the searches ran once)"
    )
    hub.close()


if __name__ == "__main__":
    main()
