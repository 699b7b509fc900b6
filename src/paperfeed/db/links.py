"""Code and project links of papers in the store (`paper_links`), and the stars of GitHub ones.

Links are found in a paper's abstract and comment each time the paper is stored
(`record_found`, called by `upsert_papers`); a member's correction (`set_member_links`)
replaces the repository and project page, and from then on what is found no longer changes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, delete, exists, select, update

from paperfeed.code_links import (
    CODE_KINDS,
    GITHUB,
    PROJECT,
    REPOSITORY_KINDS,
    PaperLink,
    find_links,
    main_links,
)
from paperfeed.db.schema import feed_entries, paper_links, utc_now
from paperfeed.models import PaperRecord

FOUND, MEMBER, HF = "found", "member", "hf"


@dataclass(frozen=True, slots=True)
class StoredLink:
    """One link of a paper as stored: where it came from, and its stars if it is on GitHub."""

    kind: str
    url: str
    source: str
    stars: int | None = None


@dataclass(frozen=True, slots=True)
class PaperLinks:
    """A paper's links, with the two Hugging Face names them by and the repository's stars."""

    links: list[StoredLink] = field(default_factory=list)

    @property
    def github_repo(self) -> str | None:
        """The repository (GitHub first, then GitLab): Hugging Face's `githubRepo`."""
        return main_links(PaperLink(link.kind, link.url) for link in self.links)[0]

    @property
    def project_page(self) -> str | None:
        """The project page: Hugging Face's `projectPage`."""
        return main_links(PaperLink(link.kind, link.url) for link in self.links)[1]

    @property
    def github_stars(self) -> int | None:
        """The stars of the repository, if it is on GitHub and they were counted."""
        repo = self.github_repo
        return next((link.stars for link in self.links if link.url == repo), None)

    @property
    def has_code(self) -> bool:
        """Whether the paper has a repository or a Hugging Face model, dataset or Space."""
        return any(link.kind in CODE_KINDS for link in self.links)


NO_LINKS = PaperLinks()


def _edited(conn: Connection, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(paper_links.c.paper_id).where(
            paper_links.c.paper_id.in_(chunk), paper_links.c.source.in_((MEMBER, HF))
        )
        found.update(conn.scalars(query))
    return found


def record_found(
    conn: Connection, records: Sequence[PaperRecord], *, replace: Iterable[str] = ()
) -> int:
    """Store the links found in each record's abstract and comment; return how many are new.

    Papers in `replace` (stored before) lose the found links their new text no longer has.
    Papers whose links a member or Hugging Face set keep those and get nothing found.
    """
    found = {r.paper_id: links for r in records if (links := find_links(r.abstract, r.comment))}
    stale = [pid for pid in dict.fromkeys(replace)]
    touched = list(dict.fromkeys([*found, *stale]))
    if not touched:
        return 0
    edited = _edited(conn, touched)
    known: dict[str, set[str]] = {}
    for start in range(0, len(touched), 500):
        chunk = touched[start : start + 500]
        for row in conn.execute(
            select(paper_links.c.paper_id, paper_links.c.url).where(
                paper_links.c.paper_id.in_(chunk), paper_links.c.source == FOUND
            )
        ):
            known.setdefault(row.paper_id, set()).add(row.url)
    now = utc_now()
    rows = []
    for pid in touched:
        if pid in edited:
            continue
        links = found.get(pid, [])
        keep = {link.url for link in links}
        gone = known.get(pid, set()) - keep
        if gone:
            conn.execute(
                delete(paper_links).where(
                    paper_links.c.paper_id == pid, paper_links.c.url.in_(gone)
                )
            )
        rows += [
            {
                "paper_id": pid,
                "url": link.url,
                "kind": link.kind,
                "source": FOUND,
                "position": n,
                "added_at": now,
            }
            for n, link in enumerate(links)
            if link.url not in known.get(pid, set())
        ]
    if rows:
        conn.execute(paper_links.insert(), rows)
    return len(rows)


def set_links(
    conn: Connection,
    paper_id: str,
    links: Sequence[PaperLink],
    *,
    source: str,
    user_id: int | None = None,
    now: dt.datetime | None = None,
    replace: Collection[str] = (*REPOSITORY_KINDS, PROJECT),
) -> None:
    """Replace the paper's links of the kinds in `replace` (its repositories and project page)
    with `links` (a member's correction, or what Hugging Face lists); its other links stay.
    Stars already counted are kept."""
    wanted = [link for link in links if link.kind in replace]
    current = {
        row.url: row
        for row in conn.execute(select(paper_links).where(paper_links.c.paper_id == paper_id))
    }
    conn.execute(
        delete(paper_links).where(
            paper_links.c.paper_id == paper_id,
            paper_links.c.kind.in_(list(replace)),
        )
    )
    conn.execute(
        delete(paper_links).where(
            paper_links.c.paper_id == paper_id, paper_links.c.url.in_([x.url for x in wanted])
        )
    )
    when = now or utc_now()
    rows = []
    unique = list({link.url: link for link in reversed(wanted)}.values())[::-1]
    for n, link in enumerate(unique):
        before = current.get(link.url)
        rows.append(
            {
                "paper_id": paper_id,
                "url": link.url,
                "kind": link.kind,
                "source": source,
                "position": n,
                "added_by": user_id,
                "added_at": when,
                "stars": before.stars if before is not None else None,
                "stars_etag": before.stars_etag if before is not None else None,
                "stars_checked_at": before.stars_checked_at if before is not None else None,
            }
        )
    if rows:
        conn.execute(paper_links.insert(), rows)
    elif source == MEMBER:
        # Nothing left: a marker row keeps later imports from finding the links again.
        conn.execute(
            paper_links.insert(),
            {
                "paper_id": paper_id,
                "url": "",
                "kind": "none",
                "source": MEMBER,
                "position": 0,
                "added_by": user_id,
                "added_at": when,
            },
        )


def submitted_by(conn: Connection, paper_id: str, user_id: int) -> bool:
    """Whether the member submitted the paper (featured it through /submit)."""
    query = select(feed_entries.c.entry_id).where(
        feed_entries.c.paper_id == paper_id,
        feed_entries.c.featured_by == user_id,
        feed_entries.c.source == "submit",
    )
    return conn.execute(query.limit(1)).first() is not None


def links_of(conn: Connection, paper_ids: Sequence[str]) -> dict[str, PaperLinks]:
    """Each paper's links, in the order found or given (papers without any are left out)."""
    ids = list(dict.fromkeys(paper_ids))
    grouped: dict[str, list[StoredLink]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = (
            select(paper_links)
            .where(paper_links.c.paper_id.in_(chunk), paper_links.c.url != "")
            .order_by(paper_links.c.paper_id, paper_links.c.position)
        )
        for row in conn.execute(query):
            grouped.setdefault(row.paper_id, []).append(
                StoredLink(row.kind, row.url, row.source, row.stars)
            )
    return {pid: PaperLinks(links) for pid, links in grouped.items()}


def has_code(paper_id: ColumnElement[str]) -> ColumnElement[bool]:
    """A clause true for papers with a repository or a Hugging Face model, dataset or Space."""
    return exists().where(paper_links.c.paper_id == paper_id, paper_links.c.kind.in_(CODE_KINDS))


def with_code(conn: Connection, paper_ids: Sequence[str]) -> set[str]:
    """Which of `paper_ids` have code (`has_code`)."""
    ids = list(dict.fromkeys(paper_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(paper_links.c.paper_id).where(
            paper_links.c.paper_id.in_(chunk), paper_links.c.kind.in_(CODE_KINDS)
        )
        found.update(conn.scalars(query))
    return found


@dataclass(frozen=True, slots=True)
class RepoToCheck:
    """A GitHub repository whose stars are due, with the ETag of its last answer."""

    url: str
    etag: str | None


def repos_to_check(
    conn: Connection, *, checked_before: dt.datetime, limit: int
) -> list[RepoToCheck]:
    """GitHub repositories never counted or last counted before `checked_before`, the least
    recently counted first (never counted: first of all)."""
    last = select(
        paper_links.c.url,
        paper_links.c.stars_etag,
        paper_links.c.stars_checked_at,
    ).where(paper_links.c.kind == GITHUB)
    due: dict[str, tuple[dt.datetime | None, str | None]] = {}
    for row in conn.execute(last):
        seen = due.get(row.url)
        if seen is None or (row.stars_checked_at or dt.datetime.min) < (seen[0] or dt.datetime.min):
            due[row.url] = (row.stars_checked_at, row.stars_etag)
    ordered = sorted(
        (item for item in due.items() if item[1][0] is None or item[1][0] < checked_before),
        key=lambda item: (item[1][0] is not None, item[1][0] or dt.datetime.min, item[0]),
    )
    return [RepoToCheck(url, etag) for url, (_, etag) in ordered[:limit]]


def record_stars(
    conn: Connection, url: str, *, stars: int | None, etag: str | None, now: dt.datetime
) -> None:
    """Store a repository's stars (None: unchanged since the last count) on every paper."""
    values: dict[str, object] = {"stars_checked_at": now}
    if stars is not None:
        values["stars"] = stars
    if etag is not None:
        values["stars_etag"] = etag[:200]
    conn.execute(update(paper_links).where(paper_links.c.url == url).values(values))
