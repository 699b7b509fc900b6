"""`paperfeed similar` exit codes, on a real SQLite store in tmp_path."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.cli._console import EXIT_NOT_FOUND, EXIT_REJECTED

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("data_dir")


def test_an_unknown_paper_exits_not_found_not_rejected() -> None:
    assert EXIT_NOT_FOUND not in (0, EXIT_REJECTED, 2, 3, 70)
    for args in (["similar", "NOPE"], ["similar", "2403.99999", "--json"], ["papers", "show", "X"]):
        result = runner.invoke(app, args)
        assert result.exit_code == EXIT_NOT_FOUND, args
        assert "no paper" in result.stderr and result.stdout == ""


def test_similar_json_scores_are_similarities_not_fusion_values() -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["similar", "2603.12270", "--json", "--limit", "5"])
    assert result.exit_code == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 5
    # Semantic search is off here: keyword neighbours, scored BM25 over the best BM25.
    assert hits[0]["score"] == 1.0
    assert all(0.0 < hit["score"] <= 1.0 for hit in hits)


def test_search_refuses_a_query_over_the_limit_without_repeating_it() -> None:
    result = runner.invoke(app, ["search", "zq" * 1_000])
    assert result.exit_code == 2
    assert "at most 1,000 characters" in result.stderr and "zqzq" not in result.stderr


def test_an_arxiv_id_answers_that_paper_and_names_its_similar_command() -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["search", "https://arxiv.org/abs/2603.12270v1", "--json"])
    assert result.exit_code == 0
    assert [hit["id"] for hit in json.loads(result.stdout)] == ["2603.12270"]
    assert "paperfeed similar 2603.12270" in result.stderr


@pytest.mark.slow  # builds the int8 model from the packaged weights
def test_junk_answers_nothing_with_the_real_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "true")
    assert runner.invoke(app, ["init"]).exit_code == 0
    for junk in ("xqzvbnmlkj", "asdkjh qwpoeiru zmxncb", "qwertyuiop", "blorp fizzle wug"):
        result = runner.invoke(app, ["search", junk, "--json"])
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout) == [], junk
    # Semantic hits without a keyword match still come back when they are close enough.
    result = runner.invoke(app, ["search", "ways to make neural networks smaller", "--json"])
    assert any(hit["vector_rank"] for hit in json.loads(result.stdout))
