"""The model's tokenizer, run a chunk ahead of the model on a thread or spread over worker
processes, and the length-sorted batches the embedders cut from its chunks.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from paperfeed.search.model_files import ModelFiles


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows have no affinity mask
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Chunk:
    """Tokenized texts of one chunk: token ids without padding, in input order."""

    start: int
    ids: list[npt.NDArray[np.int32]]


_worker_tokenizer: Any = None


def _start_tokenizer_worker(path: str, max_length: int) -> None:
    """Load the tokenizer once per worker process; one core each, so no nested thread pool."""
    global _worker_tokenizer
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from tokenizers import Tokenizer  # after the line above, which it reads when loaded

    _worker_tokenizer = Tokenizer.from_file(path)
    _worker_tokenizer.enable_truncation(max_length=max_length)
    _worker_tokenizer.no_padding()


def _tokenize_in_worker(
    texts: list[str],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Tokenize in a worker; return lengths and the ids laid end to end (cheap to pickle)."""
    ids = [e.ids for e in _worker_tokenizer.encode_batch_fast(texts)]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(lengths.sum()))
    return lengths, flat


class Tokens:
    """The model's tokenizer, run a chunk ahead on a thread while the model embeds the last one.

    For a GPU, which embeds faster than one process can tokenize (the Python side of each
    encoding holds the GIL), `process_chunks` spreads chunks over worker processes instead.
    """

    def __init__(self, files: ModelFiles) -> None:
        self._files = files
        self._pool: ProcessPoolExecutor | None = None

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer  # loaded on first use, as the model is

        tokenizer = Tokenizer.from_file(str(self._files.path / "tokenizer.json"))
        # tokenizer.json says 128 and fixed padding; sentence-transformers truncates at
        # max_seq_length (256) and pads to the longest text of a batch, as we do below.
        tokenizer.enable_truncation(max_length=self._files.max_seq_length)
        tokenizer.no_padding()
        return tokenizer

    def tokenize(self, texts: Sequence[str], start: int) -> Chunk:
        """Tokenize `texts`, which begin at row `start` of the input."""
        # The fast variant skips character offsets, which we don't use. It releases the GIL and
        # spreads a batch over all cores.
        encodings = self._tokenizer.encode_batch_fast(list(texts))
        return Chunk(start=start, ids=[np.asarray(e.ids, dtype=np.int32) for e in encodings])

    def chunks(self, texts: Sequence[str], *, size: int) -> Iterator[Chunk]:
        """Tokenize `texts` in chunks, each one a chunk ahead on a thread while the model runs."""
        if len(texts) <= size:  # a query or a small batch: no thread needed
            yield self.tokenize(texts, 0)
            return
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead: Future[Chunk] | None = None
            for start in range(0, len(texts), size):
                current = ahead or pool.submit(self.tokenize, texts[start : start + size], start)
                following = start + size
                ahead = (
                    pool.submit(self.tokenize, texts[following : following + size], following)
                    if following < len(texts)
                    else None
                )
                yield current.result()

    def process_pool(self, workers: int) -> ProcessPoolExecutor:
        """Worker processes that tokenize, started once and kept for later calls."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                # Spawn, never fork: the parent may hold a CUDA context.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_tokenizer_worker,
                initargs=(str(self._files.path / "tokenizer.json"), self._files.max_seq_length),
            )
        return self._pool

    def process_chunks(self, texts: Sequence[str], *, size: int, workers: int) -> Iterator[Chunk]:
        """Tokenize `texts` in chunks on `workers` processes, yielding chunks in input order."""
        pool = self.process_pool(workers)
        starts = iter(range(0, len(texts), size))
        ahead: deque[tuple[int, Future[tuple[Any, Any]]]] = deque()

        def submit(start: int) -> None:
            part = list(texts[start : start + size])
            ahead.append((start, pool.submit(_tokenize_in_worker, part)))

        # Two chunks per worker in flight bound the memory of texts and ids waiting.
        for start in itertools.islice(starts, 2 * workers):
            submit(start)
        while ahead:
            start, future = ahead.popleft()
            following = next(starts, None)
            if following is not None:
                submit(following)
            lengths, flat = future.result()
            yield Chunk(start=start, ids=np.split(flat, np.cumsum(lengths)[:-1]))

    @staticmethod
    def padded(
        chunk: Chunk, rows: npt.NDArray[np.intp], lengths: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Return the token ids of `rows` padded to the longest (the last), and their mask."""
        input_ids = np.zeros((len(rows), int(lengths[rows[-1]])), dtype=np.int32)
        for row, index in enumerate(rows):
            input_ids[row, : lengths[index]] = chunk.ids[index]
        mask = (np.arange(input_ids.shape[1]) < lengths[rows, None]).astype(np.int32)
        return input_ids, mask


def sorted_batches(
    lengths: npt.NDArray[np.int64], *, batch_size: int, max_tokens: int | None
) -> Iterator[npt.NDArray[np.intp]]:
    """Yield row indices in batches of rising length, each within `batch_size` and `max_tokens`.

    Sorting by length keeps padding small; the token cap bounds the memory of a batch (the
    attention scores of 64 texts of 256 tokens take 200 MB in fp32).
    """
    order = np.argsort(lengths, kind="stable")
    first = 0
    while first < len(order):
        size = min(batch_size, len(order) - first)
        # Sorted ascending, so a batch's longest text is its last one.
        while (
            max_tokens is not None
            and size > 1
            and size * lengths[order[first + size - 1]] > max_tokens
        ):
            size -= 1
        yield order[first : first + size]
        first += size
