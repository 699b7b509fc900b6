"""The keyword index on the bundled one-week sample of real arXiv papers."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.ingest.snapshot import record_from_daily, sample_path
from paperfeed.models import PaperRecord, PaperStatus
from paperfeed.search.keyword import (
    INDEX_FORMAT,
    MAX_QUERY_TERMS,
    META_FILE,
    KeywordIndex,
    KeywordIndexLocked,
    _name_analyzer,
    _name_pairs,
    _text_analyzer,
    _write_json,
    paper_day,
    query_words,
)

HOSTILE_QUERIES = [
    '"',
    '"unbalanced quote',
    "NEAR(",
    "NEAR(diffusion models, 3)",
    "title:x",
    "title:diffusion abstract:",
    "*",
    "diffus*",
    "AND OR NOT",
    "diffusion AND NOT models",
    "((((",
    "))) diffusion (",
    "[2024 TO 2025]",
    "{a TO b}",
    "field:[* TO *]",
    "a^10 b~2",
    "\\",
    "/regex.*/",
    "\x00",
    "diffusion\x00models",
    "\ud800 lone surrogate",
    "🔥🚀 diffusion 🤖",
    "نماذج الانتشار",
    "מודלים של דיפוזיה",
    "‮diffusion‬",
    "拡散モデル",
    '+-&&||!(){}[]^"~*?:\\/',
    "",
    "   \t\n ",
    "x" * 10_000,
    "diffusion " * 1_000,
    " ".join(f"w{n}" for n in range(2_000)),
]


def _read_sample() -> list[PaperRecord]:
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        return [record_from_daily(json.loads(line)) for line in f if line.strip()]


@pytest.fixture(scope="module")
def records() -> list[PaperRecord]:
    return _read_sample()


@pytest.fixture(scope="module")
def index(
    records: list[PaperRecord], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KeywordIndex]:
    with KeywordIndex.open(tmp_path_factory.mktemp("sample") / "keyword-index") as built:
        built.rebuild_from(records)
        yield built


@pytest.fixture
def small(records: list[PaperRecord], tmp_path: Path) -> Iterator[KeywordIndex]:
    """A writable index of the first 200 sample papers, for the tests that change it."""
    with KeywordIndex.open(tmp_path / "keyword-index") as built:
        built.rebuild_from(records[:200])
        yield built


def ids(hits: list[tuple[str, float]]) -> list[str]:
    return [paper_id for paper_id, _ in hits]


def test_index_holds_every_visible_sample_paper(
    index: KeywordIndex, records: list[PaperRecord]
) -> None:
    assert index.count() == sum(r.status is PaperStatus.ACTIVE for r in records) == 2027


def test_exact_title_finds_its_paper_first(index: KeywordIndex, records: list[PaperRecord]) -> None:
    missed = [r.paper_id for r in records if ids(index.search(r.title, limit=1)) != [r.paper_id]]
    assert missed == []


def test_author_name_finds_their_paper_first(
    index: KeywordIndex, records: list[PaperRecord]
) -> None:
    analyzer = _name_analyzer()
    names = Counter(tuple(analyzer.analyze(a)) for r in records for a in set(r.authors or ()))
    cases = [
        (r.paper_id, a)
        for r in records
        if r.authors and len(r.authors) <= 10
        for a in r.authors
        if names[tuple(analyzer.analyze(a))] == 1
    ]
    first = sum(ids(index.search(a, limit=1)) == [pid] for pid, a in cases)
    assert len(cases) > 6_000
    assert first / len(cases) > 0.99
    assert ids(index.search("Chris Russell", limit=1)) == ["2603.12270"]


def test_author_name_without_middle_initial_finds_the_paper(index: KeywordIndex) -> None:
    # 2603.12390 lists "Gary J. Melnick" among its 35 authors.
    assert "2603.12390" in ids(index.search("Gary Melnick", limit=3))


def test_name_pairs_stay_within_one_author(index: KeywordIndex) -> None:
    # 2603.12270 is by Ryan Brown and Chris Russell.
    def pairs_only(query: str) -> list[str]:
        return ids(index.search(query, title_boost=0, abstract_boost=0, authors_boost=0))

    assert "2603.12270" in pairs_only("Ryan Brown")
    assert "2603.12270" not in pairs_only("Brown Chris")
    # Two initials ("H&E staining") are not a name: they would match every "H. E." author.
    assert pairs_only("H&E") == pairs_only("H. E.") == []
    assert pairs_only("Gary J. Melnick")


def test_name_pairs_join_each_word_to_the_next_two() -> None:
    assert _name_pairs(["gary", "j", "melnick", "jr"]) == [
        "gary_j",
        "gary_melnick",
        "j_melnick",
        "j_jr",
        "melnick_jr",
    ]
    assert _name_pairs(["ada", "lovelace"]) == ["ada_lovelace"]
    assert _name_pairs(["plato"]) == _name_pairs([]) == []


@pytest.mark.parametrize("word", ["distillation", "galaxy", "segmentation", "robot", "graph"])
def test_a_title_boost_puts_title_matches_before_abstract_only_matches(
    index: KeywordIndex, records: list[PaperRecord], word: str
) -> None:
    analyzer = _text_analyzer()
    (stem,) = analyzer.analyze(word)
    in_title = {r.paper_id for r in records if stem in analyzer.analyze(r.title)}
    in_abstract = {r.paper_id for r in records if stem in analyzer.analyze(r.abstract)} - in_title
    ranked = ids(index.search(word, limit=3_000, title_boost=2.0))
    assert in_title and in_abstract
    assert set(ranked) == in_title | in_abstract
    assert max(ranked.index(p) for p in in_title) < min(ranked.index(p) for p in in_abstract)


def test_field_weights_are_named_parameters(index: KeywordIndex) -> None:
    title_only = index.search("distillation", abstract_boost=0, authors_boost=0)
    assert 0 < len(title_only) < len(index.search("distillation"))
    names_only = index.search(
        "Chris Russell", limit=1, title_boost=0, abstract_boost=0, author_pair_boost=0
    )
    assert ids(names_only) == ["2603.12270"]


def test_request_words_are_dropped_from_the_query(index: KeywordIndex) -> None:
    topic = index.search("galaxy mergers", limit=50)
    asked = index.search("I'd like papers describing galaxy mergers, especially", limit=50)
    assert asked == topic
    kept = index.search("papers describing galaxy mergers", limit=50, request_words=False)
    assert kept != topic
    # A query of nothing but request words still looks them up.
    assert index.search("papers", limit=5)


def test_a_repeated_query_word_weighs_more(index: KeywordIndex) -> None:
    once = dict(index.search("galaxy", limit=200))
    twice = index.search("galaxy, galaxy", limit=200)
    assert [pid for pid, _ in twice] == list(once)
    # Okapi's query-term weight with k3 = 8: (8 + 1) * 2 / (8 + 2) = 1.8.
    assert all(score == pytest.approx(1.8 * once[pid], rel=1e-4) for pid, score in twice)
    assert index.search("galaxy galaxy", limit=200, query_tf_k3=0) == index.search(
        "galaxy", limit=200, query_tf_k3=0
    )
    # The repeated word outweighs the other one: the top hits are about galaxies.
    top = ids(index.search("galaxy galaxy galaxy robot", limit=5))
    assert set(top) <= set(once)


def test_stemming_matches_other_forms_of_a_word(
    index: KeywordIndex, records: list[PaperRecord]
) -> None:
    plural = index.search("diffusions", limit=500)
    assert plural == index.search("Diffusion", limit=500)
    titles = {r.paper_id: r.title for r in records}
    assert any("Diffusion" in titles[p] and "Diffusions" not in titles[p] for p in ids(plural[:10]))


def test_accents_are_folded(index: KeywordIndex, records: list[PaperRecord]) -> None:
    paper = next(r for r in records if r.authors and "Cristóbal" in " ".join(r.authors))
    assert paper.paper_id in ids(index.search("Cristobal", limit=20))
    assert index.search("Cristobal", limit=20) == index.search("CRISTÓBAL", limit=20)


def test_syntax_characters_are_only_word_breaks(index: KeywordIndex) -> None:
    assert index.search('title:"diffusion" AND (models') == index.search(
        "title diffusion and models"
    )


def test_since_and_until_keep_papers_of_those_days(
    index: KeywordIndex, records: list[PaperRecord]
) -> None:
    days = {r.paper_id: paper_day(r) or dt.date.min for r in records}
    since, until = dt.date(2026, 3, 17), dt.date(2026, 3, 18)
    everything = index.search("language models", limit=3_000)
    window = index.search("language models", limit=3_000, since=since, until=until)
    assert window == [hit for hit in everything if since <= days[hit[0]] <= until]
    assert 0 < len(window) < len(everything)
    later = index.search("language models", limit=3_000, since=dt.date(2026, 3, 20))
    assert {days[p] for p in ids(later)} == {dt.date(2026, 3, 20)}
    earlier = index.search("language models", limit=3_000, until=dt.date(2026, 3, 16))
    assert {days[p] for p in ids(earlier)} == {dt.date(2026, 3, 16)}
    assert index.search("language models", since=dt.date(2027, 1, 1)) == []


def test_categories_keep_papers_in_any_of_them(
    index: KeywordIndex, records: list[PaperRecord]
) -> None:
    categories = {r.paper_id: set(r.categories or ()) for r in records}
    everything = index.search("galaxy", limit=3_000)
    astro = index.search("galaxy", limit=3_000, categories=["astro-ph.CO", "astro-ph.SR"])
    expected = [h for h in everything if categories[h[0]] & {"astro-ph.CO", "astro-ph.SR"}]
    assert astro == expected
    assert 0 < len(astro) < len(everything)
    assert index.search("galaxy", categories=["astro-ph"]) == []  # exact, not a prefix
    assert index.search("galaxy", categories=[]) == []
    assert index.search("galaxy", categories=["\ud800"]) == []


def test_filters_combine(index: KeywordIndex, records: list[PaperRecord]) -> None:
    by_id = {r.paper_id: r for r in records}
    hits = index.search(
        "segmentation", limit=3_000, since=dt.date(2026, 3, 19), categories=["cs.CV"]
    )
    assert hits
    for paper_id in ids(hits):
        assert "cs.CV" in (by_id[paper_id].categories or ())
        assert (by_id[paper_id].announced or dt.date.min) >= dt.date(2026, 3, 19)


def test_limit_and_offset_page_through_the_ranking(index: KeywordIndex) -> None:
    everything = index.search("neural network training", limit=60)
    pages = [index.search("neural network training", limit=20, offset=o) for o in (0, 20, 40)]
    assert [hit for page in pages for hit in page] == everything
    assert len(everything) == 60
    assert index.search("neural network training", limit=0) == []
    assert index.search("neural network training", offset=10_000) == []
    assert index.search("the", limit=10**12) == index.search("the", limit=index.count())
    with pytest.raises(ValueError, match="offset"):
        index.search("neural", offset=-1)


def test_a_term_most_papers_hold_is_looked_up_in_titles_only(
    index: KeywordIndex, records: list[PaperRecord]
) -> None:
    """`search_terms(title_only_share=)`: above that share of papers, a term's abstract and
    keyword postings are not read (they are most of a like query's cost at scale); the papers
    with it in their title are still found, in the same order as before."""
    from paperfeed.search.keyword import _TEXT_FIELDS

    searcher = index._index.searcher()
    held = max(searcher.doc_freq(field, "model") for field in _TEXT_FIELDS)
    share = held / searcher.num_docs
    assert share > 0.1  # a common term in the sample
    everywhere = ids(index.search_terms({"model": 1.0}, limit=5_000))
    titles = ids(index.search_terms({"model": 1.0}, limit=5_000, title_only_share=share / 2))
    at_the_share = ids(index.search_terms({"model": 1.0}, limit=5_000, title_only_share=share))
    assert len(everywhere) >= held and at_the_share == everywhere
    in_title = {r.paper_id for r in records if "model" in index._text.analyze(r.title)}
    assert set(titles) == in_title and 0 < len(titles) < len(everywhere)


def test_scores_come_best_first(index: KeywordIndex) -> None:
    scores = [score for _, score in index.search("reinforcement learning", limit=200)]
    assert scores == sorted(scores, reverse=True)
    assert all(score > 0 for score in scores)


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_query_returns_a_list(index: KeywordIndex, query: str) -> None:
    hits = index.search(query, limit=10)
    assert isinstance(hits, list)
    assert all(isinstance(p, str) and isinstance(s, float) for p, s in hits)


@pytest.mark.parametrize("query", ["", "   ", '"', "*", "((( )))", "\x00", "🔥🚀", "-- ; --"])
def test_query_without_words_finds_nothing(index: KeywordIndex, query: str) -> None:
    assert index.search(query) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=10_000),
        st.text(alphabet='ab "():*^~[]{}\\/-+!?&|\x00', max_size=50),
        st.lists(st.sampled_from([*HOSTILE_QUERIES, "AND", "OR", "NOT", "diffusion"])).map(
            " ".join
        ),
    )
)
def test_any_text_is_a_safe_query(index: KeywordIndex, query: str) -> None:
    hits = index.search(query, limit=20, since=dt.date(2026, 3, 17), categories=["cs.CV"])
    assert isinstance(hits, list)
    assert len(hits) <= 20


def test_query_words_are_lowercase_words_and_numbers() -> None:
    assert query_words("Diffusion-Models (v2) for 3D: العربية, 日本語!") == [
        "diffusion",
        "models",
        "v2",
        "for",
        "3d",
        "العربية",
        "日本語",
    ]
    assert query_words('"\x00 *** 🔥') == []
    assert query_words("snake_case") == ["snake", "case"]
    assert query_words("e.g. Gary E. Smith, i.e. E. G. Hinton") == [
        "gary",
        "e",
        "smith",
        "e",
        "g",
        "hinton",
    ]
    assert query_words("I'd say Alzheimer’s isn't O'Brien's") == [
        "i",
        "say",
        "alzheimer",
        "isn",
        "o",
        "brien",
    ]


def test_query_words_stop_at_the_cap_of_distinct_words() -> None:
    words = query_words(" ".join(f"w{n} w{n}" for n in range(1_000)))
    assert len(set(words)) == MAX_QUERY_TERMS
    assert words[:4] == ["w0", "w0", "w1", "w1"]


def test_paper_day_falls_back_to_the_submission_day(records: list[PaperRecord]) -> None:
    paper = replace(records[0], announced=None, submitted=dt.datetime(2026, 3, 1, 23, 59))
    assert paper_day(paper) == dt.date(2026, 3, 1)
    assert paper_day(replace(paper, submitted=None)) is None


def test_upsert_replaces_a_paper(small: KeywordIndex, records: list[PaperRecord]) -> None:
    paper, other = records[0], records[1_000]  # the small index holds the first 200
    renamed = replace(paper, title=other.title, abstract=other.abstract)
    assert small.upsert([renamed, renamed]) == 2
    small.commit()
    assert small.count() == 200
    hits = ids(small.search(other.title, limit=200))
    assert hits.count(paper.paper_id) == 1
    assert hits[0] == paper.paper_id
    assert paper.paper_id not in ids(small.search(paper.title, limit=5))


def test_upsert_of_a_hidden_paper_removes_it(
    small: KeywordIndex, records: list[PaperRecord]
) -> None:
    paper = records[1]
    assert small.upsert([replace(paper, status=PaperStatus.WITHDRAWN)]) == 0
    small.commit()
    assert small.count() == 199
    assert paper.paper_id not in ids(small.search(paper.title, limit=200))


def test_delete_removes_papers(small: KeywordIndex, records: list[PaperRecord]) -> None:
    small.delete([records[2].paper_id, records[3].paper_id, "no-such-paper"])
    small.commit()
    assert small.count() == 198
    assert records[2].paper_id not in ids(small.search(records[2].title, limit=200))


def test_changes_are_invisible_until_commit(
    small: KeywordIndex, records: list[PaperRecord]
) -> None:
    small.upsert(records[200:210])
    assert small.count() == 200
    small.close()  # drops what was not committed
    small.commit()
    assert small.count() == 200
    small.upsert(records[200:210])
    small.delete([records[0].paper_id])
    small.commit()
    assert small.count() == 209


def test_papers_without_dates_are_left_out_of_date_filters(
    small: KeywordIndex, records: list[PaperRecord]
) -> None:
    undated = replace(records[250], announced=None, submitted=None, authors=None)
    small.upsert([undated])
    small.commit()
    assert ids(small.search(undated.title, limit=1)) == [undated.paper_id]
    since = dt.date(2000, 1, 1)
    assert undated.paper_id not in ids(small.search(undated.title, since=since))


def test_rebuild_replaces_everything(small: KeywordIndex, records: list[PaperRecord]) -> None:
    hidden = replace(records[350], status=PaperStatus.DELETED)
    assert small.rebuild_from([*records[300:350], hidden], meta={"papers": 50}) == 50
    assert small.count() == 50
    assert small.meta() == {"papers": 50}
    assert ids(small.search(records[0].title, limit=1)) != [records[0].paper_id]


def test_a_failed_rebuild_leaves_the_index_as_it_was(
    small: KeywordIndex, records: list[PaperRecord]
) -> None:
    def failing() -> Iterator[PaperRecord]:
        yield from records[300:310]
        raise OSError("database went away")

    with pytest.raises(OSError, match="went away"):
        small.rebuild_from(failing(), meta={"papers": 10})
    small.commit()
    assert small.count() == 200
    assert small.meta() == {}


def test_index_and_marker_survive_reopening(records: list[PaperRecord], tmp_path: Path) -> None:
    folder = tmp_path / "keyword-index"
    marker = {"format": 1, "modified_at": "2026-03-20T12:00:00", "papers": 300}
    with KeywordIndex.open(folder) as first:
        assert first.meta() == {}
        first.upsert(records[:300])
        first.set_meta(marker)
        assert first.meta() == {}  # staged until the commit
        first.commit()
        before = [first.search(q, limit=20) for q in ("quantum", records[5].title, "Chris")]
    with KeywordIndex.open(folder) as second:
        assert second.count() == 300
        assert second.meta() == marker
        after = [second.search(q, limit=20) for q in ("quantum", records[5].title, "Chris")]
    assert after == before
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) == []


def test_a_damaged_marker_reads_as_empty_and_the_index_starts_over(small: KeywordIndex) -> None:
    (small.path / META_FILE).write_text('{"format": 1, "state": [1]}', encoding="utf-8")
    assert small.meta() == {}
    (small.path / META_FILE).write_text("{not json", encoding="utf-8")
    assert small.meta() == {}
    small.close()
    with KeywordIndex.open(small.path) as reopened:
        assert reopened.count() == 0


def test_an_index_of_an_older_format_starts_over(
    records: list[PaperRecord], tmp_path: Path
) -> None:
    folder = tmp_path / "keyword-index"
    with KeywordIndex.open(folder) as old:
        old.rebuild_from(records[:10], meta={"papers": 10})
    stored = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    assert stored["format"] == INDEX_FORMAT
    (folder / META_FILE).write_text(json.dumps({**stored, "format": 0}), encoding="utf-8")
    with KeywordIndex.open(folder) as fresh:
        assert fresh.count() == 0
        assert fresh.meta() == {}


def test_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "paperfeed.db").write_bytes(b"")
    with pytest.raises(ValueError, match="holds no keyword index"):
        KeywordIndex.open(tmp_path)


def test_one_writer_at_a_time_and_readers_reload(
    small: KeywordIndex, records: list[PaperRecord]
) -> None:
    with KeywordIndex.open(small.path) as other:
        small.upsert(records[200:201])
        with pytest.raises(KeywordIndexLocked):
            other.upsert(records[201:202])
        small.commit()  # releases the writer
        other.reload()
        assert other.count() == 201
        other.upsert(records[201:202])
        other.commit()
        small.reload()
        assert small.count() == 202


def test_a_writer_heap_below_tantivys_minimum_is_an_error(
    records: list[PaperRecord], tmp_path: Path
) -> None:
    with (
        KeywordIndex.open(tmp_path / "keyword-index", heap_size=1_000) as tiny,
        pytest.raises(ValueError),
    ):
        tiny.upsert(records[:1])


def test_marker_write_leaves_no_temporary_file_on_failure(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        _write_json(tmp_path / META_FILE, {"not json": object()})
    assert list(tmp_path.iterdir()) == []


def test_the_index_keeps_no_positions(records: list[PaperRecord], tmp_path: Path) -> None:
    """No query reads positions (term queries only; name pairs are terms of their own), so the
    index keeps frequencies alone: its position files hold headers only (format 3; with
    positions they are about as large as the postings)."""
    folder = tmp_path / "keyword-index"
    with KeywordIndex.open(folder) as index:
        index.rebuild_from(records, meta={"papers": len(records)})
        assert index.search("attention", limit=3)  # BM25 still ranks
    positions = sum(p.stat().st_size for p in folder.glob("*.pos"))
    postings = sum(p.stat().st_size for p in folder.glob("*.idx"))
    assert postings > 10_000 and positions < postings / 20
