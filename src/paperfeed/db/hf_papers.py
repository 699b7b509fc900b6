"""What Hugging Face's daily papers say of papers (`hf_papers`), and their repository and
project page (into `paper_links`, source `hf`, unless a member set the paper's links)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from paperfeed.code_links import PROJECT, REPOSITORY_KINDS, PaperLink, classify
from paperfeed.db.links import HF, MEMBER, set_links
from paperfeed.db.schema import hf_papers, paper_links, papers, utc_now
from paperfeed.models import HfFacts


@dataclass(frozen=True, slots=True)
class HfPaper:
    """A paper as Hugging Face's daily papers describe it."""

    submitter: str | None
    ai_summary: str | None
    ai_keywords: tuple[str, ...]


def record_hf_facts(conn: Connection, facts: Sequence[HfFacts]) -> int:
    """Store what Hugging Face says of papers already in the store; return how many."""
    if not facts:
        return 0
    latest = {f.paper_id: f for f in facts}
    ids = list(latest)
    stored = set(conn.scalars(select(papers.c.paper_id).where(papers.c.paper_id.in_(ids))))
    edited = set(
        conn.scalars(
            select(paper_links.c.paper_id).where(
                paper_links.c.paper_id.in_(ids), paper_links.c.source == MEMBER
            )
        )
    )
    now = utc_now()
    kept = [f for pid, f in latest.items() if pid in stored]
    conn.execute(delete(hf_papers).where(hf_papers.c.paper_id.in_([f.paper_id for f in kept])))
    rows = [
        {
            "paper_id": f.paper_id,
            "submitter": (f.submitter or None) and f.submitter[:100],
            "ai_summary": f.ai_summary,
            "ai_keywords": list(f.ai_keywords) if f.ai_keywords else None,
            "updated_at": now,
        }
        for f in kept
        if f.submitter or f.ai_summary or f.ai_keywords
    ]
    if rows:
        conn.execute(hf_papers.insert(), rows)
    for fact in kept:
        if fact.paper_id in edited:
            continue
        links: list[PaperLink] = []
        kinds: list[str] = []
        repo = classify(fact.github_repo) if fact.github_repo else None
        if repo is not None and repo.kind in REPOSITORY_KINDS:
            links.append(repo)
            kinds += REPOSITORY_KINDS
        page = fact.project_page or ""
        if page.startswith(("https://", "http://")) and len(page) <= 500:
            links.append(PaperLink(PROJECT, page))
            kinds.append(PROJECT)
        if links:  # what Hugging Face names replaces what was found; the rest stays
            set_links(conn, fact.paper_id, links, source=HF, now=now, replace=kinds)
    return len(kept)


def hf_paper(conn: Connection, paper_id: str) -> HfPaper | None:
    """What Hugging Face says of the paper, if anything."""
    row = conn.execute(select(hf_papers).where(hf_papers.c.paper_id == paper_id)).first()
    if row is None:
        return None
    keywords = tuple(str(k) for k in row.ai_keywords or () if isinstance(k, str))
    return HfPaper(row.submitter, row.ai_summary, keywords)
