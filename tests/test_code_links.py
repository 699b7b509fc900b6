"""Code and project links found in abstracts and arXiv comments (code_links.py)."""

from __future__ import annotations

import gzip
import json

from paperfeed.code_links import (
    GITHUB,
    GITLAB,
    HF_DATASET,
    HF_MODEL,
    HF_SPACE,
    PROJECT,
    PaperLink,
    classify,
    find_links,
    github_slug,
    main_links,
    project_page,
)
from paperfeed.ingest.snapshot import sample_path


def test_repositories_are_canonical_roots() -> None:
    assert classify("https://github.com/rednote-hilab/dots.mocr.") == PaperLink(
        GITHUB, "https://github.com/rednote-hilab/dots.mocr"
    )
    assert classify("http://github.com/a/b.git") == PaperLink(GITHUB, "https://github.com/a/b")
    assert classify("https://www.github.com/a/b/tree/main/src") == PaperLink(
        GITHUB, "https://github.com/a/b"
    )
    assert classify("https://gitlab.com/group/sub/proj/-/tree/main") == PaperLink(
        GITLAB, "https://gitlab.com/group/sub/proj"
    )
    assert classify("https://github.com/orgs/foo") is None
    assert classify("https://github.com/alone") is None
    assert classify("ftp://github.com/a/b") is None


def test_hugging_face_pages_by_kind() -> None:
    assert classify("https://huggingface.co/org/model") == PaperLink(
        HF_MODEL, "https://huggingface.co/org/model"
    )
    assert classify("https://hf.co/datasets/fengyee/camera-motion") == PaperLink(
        HF_DATASET, "https://huggingface.co/datasets/fengyee/camera-motion"
    )
    assert classify("https://huggingface.co/spaces/PORTULAN/board.") == PaperLink(
        HF_SPACE, "https://huggingface.co/spaces/PORTULAN/board"
    )
    assert classify("https://huggingface.co/papers/2401.00001") is None
    assert classify("https://huggingface.co/docs/hub") is None


def test_project_pages_need_a_label_or_github_io() -> None:
    text = (
        "We study X. Project page: https://risys-lab.github.io/SPARROW; "
        "Repository: https://github.com/RISys-Lab/SPARROW. See also https://example.org/x."
    )
    assert find_links(text) == [
        PaperLink(PROJECT, "https://risys-lab.github.io/SPARROW"),
        PaperLink(GITHUB, "https://github.com/RISys-Lab/SPARROW"),
    ]
    labelled = "Leaderboards at our project website: https://shattermed-qa-web.vercel.app/ ."
    assert find_links(labelled) == [PaperLink(PROJECT, "https://shattermed-qa-web.vercel.app/")]
    assert find_links("Data at https://zenodo.org/records/1 and https://example.org/x") == []
    assert project_page("https://arxiv.org/abs/2401.00001") is None
    assert project_page("https://example.org/paper.pdf") is None
    assert project_page("https://github.com/a/b") is None


def test_abstract_and_comment_together_each_url_once() -> None:
    abstract = r"Code: \href{https://github.com/D/IGASA}{https://github.com/D/IGASA}."
    comment = "CVPR 2026. Code: https://github.com/d/igasa; page https://d.github.io/igasa/"
    found = find_links(abstract, comment)
    assert found == [
        PaperLink(GITHUB, "https://github.com/D/IGASA"),
        PaperLink(PROJECT, "https://d.github.io/igasa/"),
    ]
    assert main_links(found) == ("https://github.com/D/IGASA", "https://d.github.io/igasa/")
    assert find_links(None, "", "no links here") == []


def test_github_wins_over_gitlab_as_the_repository() -> None:
    links = [
        PaperLink(GITLAB, "https://gitlab.com/a/b"),
        PaperLink(GITHUB, "https://github.com/c/d"),
    ]
    assert main_links(links) == ("https://github.com/c/d", None)
    assert main_links(links[:1]) == ("https://gitlab.com/a/b", None)
    assert github_slug("https://github.com/c/d/issues") == ("c", "d")
    assert github_slug("https://gitlab.com/a/b") is None


def test_on_the_real_sample_every_link_is_well_formed() -> None:
    papers = with_links = 0
    kinds: dict[str, int] = {}
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            papers += 1
            links = find_links(record["abstract"], record.get("comment"))
            with_links += bool(links)
            for link in links:
                kinds[link.kind] = kinds.get(link.kind, 0) + 1
                assert link.url.startswith(("https://", "http://"))
                assert not link.url.endswith((".", ",", ";", ")"))
                if link.kind == GITHUB:
                    assert github_slug(link.url) is not None
    # A real week of arXiv: about one paper in six names its code or project page.
    assert papers == 2027 and 200 < with_links < 600
    assert kinds[GITHUB] > kinds[PROJECT] > kinds.get(HF_DATASET, 0) > 0
