"""The keyword index: tantivy BM25 over titles, abstracts and authors, in a folder beside the store.

Derived from the database and rebuilt from it on demand; only this module touches the index files.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import math
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import tantivy

from paperfeed.models import PaperRecord, PaperStatus
from paperfeed.search.atomic_file import replace_file
from paperfeed.search.stop_words import REQUEST_WORDS, STOP_WORDS

logger = logging.getLogger(__name__)

# Bump when the schema or an analyzer changes: open() then starts an empty index, meta() is
# empty, and the caller rebuilds from the database.
INDEX_FORMAT = 3

META_FILE = "paperfeed-keyword-meta.json"
MAX_QUERY_TERMS = 64
# A paper's keyword neighbours are found with its this many most telling terms (`like_terms`).
LIKE_QUERY_TERMS = 32
_TEXT_FIELDS = ("title", "abstract", "keywords")
# like_terms remembers this many terms' document frequencies (a few MB), until the index changes.
DF_CACHE_TERMS = 200_000
# Adjacent query words are also looked up as a name ("Ryan Brown"), for this many pairs.
MAX_NAME_PAIRS = 16

_TEXT_ANALYZER = "paperfeed_en"
_NAME_ANALYZER = "paperfeed_names"
_PAIR_ANALYZER = "paperfeed_name_pairs"
# Unicode letters and digits; everything else (quotes, operators, `field:`, NUL, emoji) is a gap.
_WORD = re.compile(r"[^\W_]+")
# English clitics ("I'd", "don't", "Alzheimer's"): dropped before the split, or their lone
# letters would be looked up as author initials.
_CLITIC = re.compile(r"(?<=[^\W\d_])['’](?:d|ll|m|re|s|t|ve)\b")
# "e.g." and "i.e.", for the same reason; written apart ("E. G. Smith") they are initials.
_LATIN = re.compile(r"\b(?:e\.g|i\.e)\b\.?")


# Okapi's k3: a word typed twice counts (k3 + 1) * 2 / (k3 + 2) = 1.8 times, saturating at
# k3 + 1 (Robertson et al., "Okapi at TREC-3"). Long queries repeat their topic ("texture
# analysis ... texture synthesis ... perception of texture"); 0 turns this off.
QUERY_TF_K3 = 8.0


def content_words(words: Sequence[str], *, request_words: bool = False) -> list[str]:
    """Drop stop words (and request words), unless nothing else is left ("to be or not to be")."""
    kept = [w for w in words if w not in STOP_WORDS]
    if request_words:
        topical = [w for w in kept if w not in REQUEST_WORDS]
        kept = topical or kept
    return kept or list(words)


class KeywordIndexLocked(RuntimeError):
    """Another writer (in this process or another one) holds the index's writer lock."""


def _text_analyzer() -> tantivy.TextAnalyzer:
    # tantivy's own `en_stem` plus ASCII folding, so "Schrodinger" finds "Schrödinger".
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _name_analyzer() -> tantivy.TextAnalyzer:
    # tantivy's `default` plus ASCII folding: names are not stemmed ("Sung" stays "sung").
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def _schema() -> tantivy.Schema:
    # Frequencies, no positions (format 3): every query is a set of term queries (no phrases; a
    # name's adjacent words are their own `author_pairs` terms) and BM25 reads only frequencies
    # and field lengths. The 94,905-paper index is 31 MB instead of 54 (docs/search.md).
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("paper_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("title", tokenizer_name=_TEXT_ANALYZER, index_option="freq")
    builder.add_text_field("abstract", tokenizer_name=_TEXT_ANALYZER, index_option="freq")
    builder.add_text_field("keywords", tokenizer_name=_TEXT_ANALYZER, index_option="freq")
    builder.add_text_field("authors", tokenizer_name=_NAME_ANALYZER, index_option="freq")
    builder.add_text_field("author_pairs", tokenizer_name=_PAIR_ANALYZER, index_option="freq")
    builder.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", indexed=True, fast=True)
    return builder.build()


def query_words(text: str, *, max_terms: int = MAX_QUERY_TERMS) -> list[str]:
    """Cut user text into lowercase words and numbers, in order, up to `max_terms` distinct ones."""
    words: list[str] = []
    seen: set[str] = set()
    for match in _WORD.finditer(_LATIN.sub(" ", _CLITIC.sub("", text.lower()))):
        word = match.group()
        if word not in seen:
            if len(seen) >= max_terms:
                break
            seen.add(word)
        words.append(word)
    return words


def _name_pairs(tokens: Sequence[str]) -> list[str]:
    """Each name word joined to the next one and to the one after ("gary_melnick"), in order."""
    pairs: list[str] = []
    last = len(tokens) - 1
    for i in range(last):  # a loop without a generator per word: ~580,000 names an import
        token = tokens[i]
        pairs.append(f"{token}_{tokens[i + 1]}")
        if i + 1 < last:
            pairs.append(f"{token}_{tokens[i + 2]}")
    return pairs


def _is_initial(term: str) -> bool:
    # A single letter is an initial ("Gary J. Melnick") or noise ("J-PLUS", "top-k"): it is
    # looked up in authors only, or "j" in a title outranks the paper of the name typed.
    return len(term) == 1 and term.isascii() and term.isalpha()


def paper_day(record: PaperRecord) -> dt.date | None:
    """Return the day a paper is filed under: its announcement, else its submission day."""
    if record.announced is not None:
        return record.announced
    if record.submitted is not None:
        return record.submitted.date()
    return None


def _day_number(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


class KeywordIndex:
    """A persisted tantivy index of the visible papers, with a marker of the state it reflects.

    One writer at a time: tantivy holds an OS file lock while a writer is open, and this class
    opens its writer on the first change and releases it at `commit()`. Readers in other
    processes pick up a commit on their own within about a second (or at once with `reload()`).
    """

    def __init__(
        self,
        index: tantivy.Index,
        *,
        path: Path,
        heap_size: int,
        num_threads: int,
    ) -> None:
        self._index = index
        self._schema = index.schema
        self._path = path
        self._heap_size = heap_size
        self._num_threads = num_threads
        self._writer: tantivy.IndexWriter | None = None
        self._pending_meta: dict[str, Any] | None = None
        self._text = _text_analyzer()
        self._df_cache: dict[str, int] = {}
        self._df_state: tuple[int, int] | None = None
        self._stems: dict[str, list[str]] = {}  # like_terms: a word's terms, stop words none
        self._names = _name_analyzer()
        index.register_tokenizer(_TEXT_ANALYZER, self._text)
        index.register_tokenizer(_NAME_ANALYZER, self._names)
        index.register_tokenizer(
            _PAIR_ANALYZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
        )

    @classmethod
    def open(
        cls, path: Path, *, heap_size: int = 128_000_000, num_threads: int = 1
    ) -> KeywordIndex:
        """Open the index in `path`, creating it (or starting over if its format is old)."""
        path = Path(path)
        if path.exists() and any(path.iterdir()) and not (path / "meta.json").exists():
            raise ValueError(f"{path} is not empty and holds no keyword index")
        if (path / "meta.json").exists() and _stored_format(path) != INDEX_FORMAT:
            logger.warning("keyword index in %s has an old format: starting it over", path)
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(_schema(), path=str(path), reuse=True)
        if not (path / META_FILE).exists():
            _write_json(path / META_FILE, {"format": INDEX_FORMAT, "state": {}})
        return cls(index, path=path, heap_size=heap_size, num_threads=num_threads)

    @property
    def path(self) -> Path:
        """Return the index folder."""
        return self._path

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the writer lock, dropping changes not committed."""
        if self._writer is not None:
            self._writer.rollback()
            self._writer.wait_merging_threads()
            self._writer = None
        self._pending_meta = None

    def open_writer(self, *, heap_size: int, num_threads: int) -> None:
        """Take the writer lock now, with these resources (a bulk load wants other ones).

        Raises KeywordIndexLocked if another writer holds it; a no-op if this one does.
        """
        self._writer_or_open(heap_size=heap_size, num_threads=num_threads)

    def _writer_or_open(
        self, *, heap_size: int | None = None, num_threads: int | None = None
    ) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self._index.writer(
                    heap_size=heap_size or self._heap_size,
                    num_threads=num_threads or self._num_threads,
                )
            except ValueError as exc:
                if "LockBusy" in str(exc):
                    raise KeywordIndexLocked(f"another writer holds {self._path}") from exc
                raise
        return self._writer

    def _document(self, record: PaperRecord) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_text("paper_id", record.paper_id)
        doc.add_text("title", record.title)
        doc.add_text("abstract", record.abstract)
        for keyword in record.keywords or ():
            doc.add_text("keywords", keyword)
        pairs: list[str] = []
        for author in record.authors or ():
            doc.add_text("authors", author)
            pairs.extend(_name_pairs(self._names.analyze(author)))
        if pairs:
            doc.add_text("author_pairs", " ".join(dict.fromkeys(pairs)))
        for category in record.categories or ():
            doc.add_text("categories", category)
        day = paper_day(record)
        if day is not None:
            doc.add_integer("day", _day_number(day))
        return doc

    def upsert(self, records: Iterable[PaperRecord]) -> int:
        """Replace these papers in the index, removing hidden ones; return how many were added."""
        writer = self._writer_or_open()
        added = 0
        for record in records:
            writer.delete_documents_by_term("paper_id", record.paper_id)
            if record.status is PaperStatus.ACTIVE:
                writer.add_document(self._document(record))
                added += 1
        return added

    def add(self, records: Iterable[PaperRecord]) -> int:
        """Add these papers, known not to be in the index, skipping hidden ones; return how many."""
        writer = self._writer_or_open()
        added = 0
        for record in records:
            if record.status is PaperStatus.ACTIVE:
                writer.add_document(self._document(record))
                added += 1
        return added

    def delete(self, paper_ids: Iterable[str]) -> None:
        """Remove these papers from the index."""
        writer = self._writer_or_open()
        for paper_id in paper_ids:
            writer.delete_documents_by_term("paper_id", paper_id)

    def rebuild_from(
        self, records: Iterable[PaperRecord], *, meta: Mapping[str, Any] | None = None
    ) -> int:
        """Replace the whole index with these papers and commit; return how many were added.

        Readers see the old index until the commit. If `records` fails, every change since the
        last commit is dropped, so a half-built index is never committed.
        """
        writer = self._writer_or_open()
        added = 0
        try:
            writer.delete_all_documents()
            for record in records:
                if record.status is PaperStatus.ACTIVE:
                    writer.add_document(self._document(record))
                    added += 1
        except BaseException:
            self.close()
            raise
        if meta is not None:
            self.set_meta(meta)
        self.commit()
        return added

    def set_meta(self, meta: Mapping[str, Any]) -> None:
        """Stage the state marker (JSON-serializable) that the next `commit()` stores."""
        self._pending_meta = json.loads(json.dumps(dict(meta)))

    def meta(self) -> dict[str, Any]:
        """Return the state marker stored by the last commit ({} when none)."""
        try:
            stored = json.loads((self._path / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        state = stored.get("state") if isinstance(stored, dict) else None
        return state if isinstance(state, dict) else {}

    def commit(self) -> None:
        """Make the changes durable and visible, store the staged marker, release the writer."""
        if self._writer is not None:
            self._writer.commit()
            self._writer.wait_merging_threads()
            self._writer = None
        # After the index: a crash in between leaves an older marker, so the caller re-syncs.
        if self._pending_meta is not None:
            state = {"format": INDEX_FORMAT, "state": self._pending_meta}
            _write_json(self._path / META_FILE, state)
            self._pending_meta = None
        self._index.reload()

    def reload(self) -> None:
        """Look at the latest commit now, without waiting for the automatic reload."""
        self._index.reload()

    def count(self) -> int:
        """Return the number of papers in the last commit."""
        return self._index.searcher().num_docs

    def _term(self, field: str, term: str, boost: float) -> tantivy.Query:
        term_query = tantivy.Query.term_query(self._schema, field, term)
        return tantivy.Query.boost_query(term_query, boost) if boost != 1.0 else term_query

    def search(
        self,
        query: str,
        *,
        limit: int = 100,
        offset: int = 0,
        since: dt.date | None = None,
        until: dt.date | None = None,
        categories: Sequence[str] | None = None,
        title_boost: float = 1.0,
        abstract_boost: float = 1.0,
        keywords_boost: float = 1.0,
        authors_boost: float = 1.0,
        author_pair_boost: float = 8.0,
        query_tf_k3: float = QUERY_TF_K3,
        request_words: bool = True,
    ) -> list[tuple[str, float]]:
        """Rank papers by BM25 over any of the query's words; return (paper_id, score), best first.

        The query is cut into words (see `query_words`) and each word is analyzed like the field
        it is looked up in; no query syntax is ever parsed. Stop words and, with
        `request_words`, words like "papers" or "interested" are dropped; a word repeated in the
        query weighs more (`query_tf_k3`, 0 turns it off). `since` and `until` are inclusive
        days; `categories` keeps papers in any of them.
        """
        if limit <= 0:
            return []
        if offset < 0:
            raise ValueError("offset must not be negative")
        searcher = self._index.searcher()
        if offset >= searcher.num_docs:
            return []
        should = self._scoring_queries(
            content_words(query_words(query), request_words=request_words),
            title_boost=title_boost,
            abstract_boost=abstract_boost,
            keywords_boost=keywords_boost,
            authors_boost=authors_boost,
            author_pair_boost=author_pair_boost,
            query_tf_k3=query_tf_k3,
        )
        if not should:
            return []
        query_object = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in should])
        filters = self._filters(since=since, until=until, categories=categories)
        if filters:
            query_object = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, query_object)]
                + [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
            )
        limit = min(limit, searcher.num_docs)
        hits = searcher.search(query_object, limit=limit, offset=offset, count=False).hits
        return [
            (str(searcher.doc(address).get_first("paper_id")), score) for score, address in hits
        ]

    def like_terms(
        self,
        papers: Sequence[tuple[str, str, float]],
        *,
        max_terms: int = LIKE_QUERY_TERMS,
        max_share: float = 1.0,
    ) -> dict[str, float]:
        """The query of a paper's keyword neighbours: its `max_terms` most telling terms.

        `papers` are (title, abstract, weight): the paper itself (weight 1), and possibly its
        first neighbours with a smaller weight (pseudo-relevance feedback). Terms are the stemmed
        words of the titles and abstracts (stop words, single letters, numbers and terms no
        other paper holds dropped), a title word counting twice, each times its paper's weight.
        Each term is scored by its saturated count (Okapi's k3) times its rarity, BM25's idf over
        the papers holding it in any text field; the best `max_terms` are kept with that score
        as their weight (as Lucene's MoreLikeThis boosts them), so BM25 weighs rarity twice: on
        CACM's citations this lifted the keyword list's nDCG@20 from 0.256 to 0.264. Best first.
        """
        searcher = self._index.searcher()
        total = searcher.num_docs
        held_by = self._held_by(searcher)
        stems = self._stems
        if len(stems) > DF_CACHE_TERMS:
            stems.clear()
        words: dict[str, float] = {}
        for title, abstract, weight in papers:
            for text, times in ((title, 2 * weight), (abstract, weight)):
                for word, n in Counter(_WORD.findall(text.lower())).items():
                    words[word] = words.get(word, 0.0) + n * times
        counts: dict[str, float] = {}
        for word, times in words.items():  # each distinct word analyzed (or looked up) once
            terms = stems.get(word)
            if terms is None:
                terms = [
                    t
                    for t in self._text.analyze(word)
                    if word not in STOP_WORDS and not _is_initial(t) and not t.isdigit()
                ]
                stems[word] = terms
            for term in terms:
                counts[term] = counts.get(term, 0.0) + times
        scored: list[tuple[float, str, float]] = []
        k3 = QUERY_TF_K3
        ceiling = max_share * total
        for term, count in counts.items():
            held = held_by.get(term)
            if held is None:
                held = max(searcher.doc_freq(field, term) for field in _TEXT_FIELDS)
                held_by[term] = held
            if held <= 1 or held > ceiling:  # the paper alone (or none), or too common
                continue
            idf = math.log(1 + (total - held + 0.5) / (held + 0.5))
            weight = (k3 + 1) * count / (k3 + count)
            scored.append((weight * idf, term, weight * idf))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return {term: weight for _, term, weight in scored[:max_terms]}

    def _held_by(self, searcher: tantivy.Searcher) -> dict[str, int]:
        """Document frequencies looked up by `like_terms`, kept while the index is unchanged
        (its documents and segments), and at most DF_CACHE_TERMS of them."""
        state = (searcher.num_docs, searcher.num_segments)
        if state != self._df_state or len(self._df_cache) > DF_CACHE_TERMS:
            self._df_cache = {}
            self._df_state = state
        return self._df_cache

    def search_terms(
        self,
        terms: Mapping[str, float],
        *,
        limit: int = 100,
        since: dt.date | None = None,
        title_only_share: float = 1.0,
    ) -> list[tuple[str, float]]:
        """BM25 of weighted, already analyzed terms (`like_terms`) over titles, abstracts and
        keywords, best first. Authors are not looked up. A term held by more than
        `title_only_share` of the papers is looked up in titles only."""
        if limit <= 0 or not terms:
            return []
        searcher = self._index.searcher()
        held_by = self._held_by(searcher)
        ceiling = title_only_share * searcher.num_docs
        should: list[tantivy.Query] = []
        for term, weight in terms.items():
            held = held_by.get(term)
            if held is None:
                held = max(searcher.doc_freq(field, term) for field in _TEXT_FIELDS)
                held_by[term] = held
            fields = ("title",) if held > ceiling else _TEXT_FIELDS
            should.extend(self._term(field, term, weight) for field in fields)
        query_object = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in should])
        filters = self._filters(since=since, until=None, categories=None)
        if filters:
            query_object = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, query_object)]
                + [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
            )
        limit = min(limit, searcher.num_docs)
        hits = searcher.search(query_object, limit=limit, count=False).hits
        return [
            (str(searcher.doc(address).get_first("paper_id")), score) for score, address in hits
        ]

    def _scoring_queries(
        self,
        words: Sequence[str],
        *,
        title_boost: float,
        abstract_boost: float,
        keywords_boost: float,
        authors_boost: float,
        author_pair_boost: float,
        query_tf_k3: float,
    ) -> list[tantivy.Query]:
        distinct = dict.fromkeys(words)
        analyzed = {w: self._text.analyze(w) for w in distinct}
        # Each term's weight is its (saturated) count in the query: Okapi BM25's query-term part.
        counts = Counter(t for w in words for t in analyzed[w] if not _is_initial(t))
        text_terms = {t: (query_tf_k3 + 1) * n / (query_tf_k3 + n) for t, n in counts.items()}
        name_tokens = {w: self._names.analyze(w) for w in distinct}
        name_terms = dict.fromkeys((t for tokens in name_tokens.values() for t in tokens), 1.0)
        # Term queries only: a phrase clause reads positions (the index keeps none, format 3).
        names = (t for w in words for t in name_tokens[w])
        # Two initials side by side ("H&E", "A. B.") match too many names to count as one.
        adjacent = (
            f"{a}_{b}"
            for a, b in itertools.pairwise(names)
            if not (_is_initial(a) and _is_initial(b))
        )
        pairs = dict.fromkeys(itertools.islice(dict.fromkeys(adjacent), MAX_NAME_PAIRS), 1.0)
        return [
            self._term(field, term, boost * weight)
            for field, terms, boost in (
                ("title", text_terms, title_boost),
                ("abstract", text_terms, abstract_boost),
                ("keywords", text_terms, keywords_boost),
                ("authors", name_terms, authors_boost),
                ("author_pairs", pairs, author_pair_boost),
            )
            if boost > 0
            for term, weight in terms.items()
        ]

    def _filters(
        self,
        *,
        since: dt.date | None,
        until: dt.date | None,
        categories: Sequence[str] | None,
    ) -> list[tantivy.Query]:
        filters: list[tantivy.Query] = []
        if since is not None or until is not None:
            filters.append(
                tantivy.Query.range_query(
                    self._schema,
                    "day",
                    tantivy.FieldType.Integer,
                    lower_bound=_day_number(since) if since is not None else 0,
                    upper_bound=_day_number(until) if until is not None else 99_991_231,
                )
            )
        if categories is not None:
            wanted = [c for c in dict.fromkeys(categories) if _encodable(c)]
            filters.append(
                tantivy.Query.term_set_query(self._schema, "categories", wanted)
                if wanted
                else tantivy.Query.empty_query()
            )
        return filters


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate cannot cross into Rust
        return False
    return True


def _stored_format(path: Path) -> int | None:
    try:
        stored = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = stored.get("format") if isinstance(stored, dict) else None
    return value if isinstance(value, int) else None


def _write_json(path: Path, value: Mapping[str, Any]) -> None:
    """Write a JSON file atomically: a temporary file in the same folder, fsync, rename."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    replace_file(path, lambda out: out.write(text.encode("utf-8")))
