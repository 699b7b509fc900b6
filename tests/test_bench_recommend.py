"""bench/recommend.py still runs: its timing on a few readers, and the rules of its corpus draws
(where the shared corpus is on the machine). The benchmark itself runs on demand, not here."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_recommend", ROOT / "bench/recommend.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_timing_runs_on_a_few_readers(capsys: pytest.CaptureFixture[str]) -> None:
    _bench().run_timing(30)
    out = capsys.readouterr().out
    assert "Timing: 30 readers x 800 papers" in out
    assert out.count("One reader with 500 upvotes") == 2


@pytest.mark.slow
def test_a_draw_keeps_the_windows_and_each_reader_its_half() -> None:
    bench = _bench()
    if not bench.CORPUS.exists():
        pytest.skip("the shared corpus is not on this machine")
    papers, readers, mondays, drawn = bench.corpus_topic_readers(draws=(1,))
    alone = bench.corpus_topic_readers()
    # Asking for draws changes neither the bench's own readers nor their windows.
    assert mondays == alone[2]
    assert [(r[0], [papers[i]["id"] for i in r[1]]) for r in readers] == [
        (r[0], [alone[0][i]["id"] for i in r[1]]) for r in alone[1]
    ]
    again = drawn[1]
    assert len(again) == len(readers) and again != readers
    for name, library, relevant, candidates in again:
        monday, pair, _ = name.split(":")
        assert monday in mondays  # the same windows
        start = dt.date.fromisoformat(monday)
        first, second = pair.split("+")

        def day(row: int) -> dt.date:
            return dt.date.fromisoformat(str(papers[row]["first_seen"])[:10])

        assert all(start <= day(i) < start + dt.timedelta(days=14) for i in library)
        assert all(start + dt.timedelta(days=14) <= day(i) for i in candidates)
        assert relevant <= set(candidates) and len(library) == 10
        assert all({first, second} <= set(papers[i]["categories"]) for i in (*library, *relevant))
