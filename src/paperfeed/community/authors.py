"""Authors: one author's page (papers, co-authors, categories), following an author, and claiming
an author page, which a curator approves or refuses.

Names are read by `paperfeed.author_names` (the rule is in docs/authors.md); the names of the
store's papers are indexed lazily (`refresh_index`), never by the paper import itself.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from paperfeed.author_names import AuthorName, Authorship, bucket_of, group_people, is_key
from paperfeed.author_names import parse_name as parse_name
from paperfeed.community import limits
from paperfeed.db import authors as store
from paperfeed.db.authors import APPROVED, PENDING, REFUSED, Claim
from paperfeed.db.cache import cached
from paperfeed.db.engine import Database
from paperfeed.db.papers import get_papers
from paperfeed.db.users import User
from paperfeed.models import PaperRecord

__all__ = [
    "AuthorPage",
    "Claim",
    "ClaimRefused",
    "NoSuchAuthor",
    "author_href",
    "author_page",
    "claims_paper",
    "decide_claim",
    "follow",
    "followed_papers",
    "my_papers",
    "pending_claims",
    "refresh_index",
    "request_claim",
]

PAGE_SIZE = 30
MAX_COAUTHORS = 30
MAX_NOTE = 1000


class NoSuchAuthor(LookupError):
    """No visible paper has this author."""


class ClaimRefused(ValueError):
    """A claim that cannot be made or decided (the message says why)."""


def refresh_index(db: Database) -> int:
    """Bring the index of names up to the papers (cheap when nothing changed); return how many
    papers were read."""
    with db.read() as conn:
        mark = store.index_mark(conn)
        latest = store.latest_change(conn)
    if latest is None or (mark is not None and latest <= mark):
        return 0
    with db.write() as conn:
        return store.catch_up(conn, since=store.index_mark(conn))


@dataclass(frozen=True, slots=True)
class _Person:
    papers: list[str] = field(default_factory=list)
    names: Counter[str] = field(default_factory=Counter)
    full_names: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class _Bucket:
    people: dict[str, _Person]
    person_of: dict[tuple[str, str], str]
    coauthors: dict[str, list[AuthorName]]  # paper_id -> the other names on it


def _load_bucket(db: Database, bucket: str) -> _Bucket:
    with db.read() as conn:
        rows = store.bucket_rows(conn, bucket)
        names = store.names_of(conn, {r.paper_id for r in rows})
    authorships: list[Authorship] = []
    coauthors: dict[str, list[AuthorName]] = {}
    for row in rows:
        me = parse_name(row.name)
        if me is None:
            continue
        others = [
            n
            for position, raw in names.get(row.paper_id, ())
            if position != row.position and (n := parse_name(raw)) is not None
        ]
        coauthors[row.paper_id] = others
        authorships.append(Authorship(row.paper_id, me, frozenset(others)))
    person_of = group_people(authorships)
    people: dict[str, _Person] = defaultdict(_Person)
    for a in authorships:
        person = people[person_of[(a.paper_id, a.name.key)]]
        if a.paper_id not in person.papers:
            person.papers.append(a.paper_id)
        person.names[a.name.written] += 1
        if not a.name.is_initial:
            person.full_names[a.name.written] += 1
    return _Bucket(dict(people), person_of, coauthors)


def _bucket(db: Database, bucket: str) -> _Bucket:
    refresh_index(db)
    return cached(db, ("author-bucket", bucket), lambda: _load_bucket(db, bucket))


def _display(person: _Person) -> str:
    names = person.full_names or person.names
    return max(names.items(), key=lambda item: (item[1], len(item[0])))[0]


def author_href(name: AuthorName, paper_id: str) -> str:
    """Where a name on a paper links: its key's page; an initial carries the paper, whose
    co-authors tell which person of the bucket it is."""
    path = "/authors/" + quote(name.key, safe="")
    return f"{path}?paper={quote(paper_id, safe='')}" if name.is_initial else path


def resolve(db: Database, *, key: str, paper_id: str) -> str:
    """The key of the person `key` names on `paper_id` (an initial may be a full name's)."""
    if not is_key(key):
        return key
    found = _bucket(db, bucket_of(key)).person_of.get((paper_id, key))
    return found or key


@dataclass(frozen=True, slots=True)
class Coauthor:
    key: str
    name: str
    count: int
    href: str


@dataclass(frozen=True, slots=True)
class AuthorPage:
    """One author's page: a page of their papers (newest first) and what they count."""

    key: str
    name: str
    papers: list[PaperRecord]
    total: int
    page: int
    pages: int
    coauthors: list[Coauthor]
    categories: list[tuple[str, int]]
    others: list[tuple[str, str, int]]  # (key, name, papers) of the same bucket
    first_day: dt.date | None
    last_day: dt.date | None
    followers: int
    claimed_by: User | None


def _person(db: Database, key: str) -> tuple[_Bucket, _Person]:
    if not is_key(key):
        raise NoSuchAuthor(key)
    bucket = _bucket(db, bucket_of(key))
    person = bucket.people.get(key)
    if person is None or not person.papers:
        raise NoSuchAuthor(key)
    return bucket, person


def author_name(*, db: Database, key: str) -> str:
    """The name an author key is shown as; raises `NoSuchAuthor`."""
    return _display(_person(db, key)[1])


def author_page(*, db: Database, key: str, page: int = 1, page_size: int = PAGE_SIZE) -> AuthorPage:
    """The author's page `page` (from 1); raises `NoSuchAuthor`."""
    bucket, person = _person(db, key)
    with db.read() as conn:
        facts = store.paper_facts(conn, person.papers)
    facts.sort(key=lambda f: (f.day or dt.date.min, f.paper_id), reverse=True)
    pages = max(1, -(-len(facts) // page_size))
    page = max(1, min(page, pages))
    shown = [f.paper_id for f in facts[(page - 1) * page_size : page * page_size]]
    categories = Counter(c for f in facts for c in dict.fromkeys(f.categories))
    together: Counter[str] = Counter()
    names: dict[str, Counter[str]] = defaultdict(Counter)
    hrefs: dict[str, str] = {}
    for f in facts:
        for other in {n.key: n for n in bucket.coauthors.get(f.paper_id, ())}.values():
            if other.key == key:
                continue
            together[other.key] += 1
            names[other.key][other.written] += 1
            hrefs.setdefault(other.key, author_href(other, f.paper_id))
    coauthors = [
        Coauthor(k, names[k].most_common(1)[0][0], n, hrefs[k])
        for k, n in together.most_common(MAX_COAUTHORS)
    ]
    others = sorted(
        ((k, _display(p), len(p.papers)) for k, p in bucket.people.items() if k != key),
        key=lambda item: -item[2],
    )
    with db.read() as conn:
        found = get_papers(conn, shown)
        followers = store.follower_count(conn, author_key=key)
        claims = store.claims_of_key(conn, author_key=key)
    days = [f.day for f in facts if f.day is not None]
    return AuthorPage(
        key=key,
        name=_display(person),
        papers=[found[p] for p in shown if p in found],
        total=len(facts),
        page=page,
        pages=pages,
        coauthors=coauthors,
        categories=categories.most_common(),
        others=others[:10],
        first_day=min(days, default=None),
        last_day=max(days, default=None),
        followers=followers,
        claimed_by=next((c.user for c in claims if c.status == APPROVED), None),
    )


# Follows


def follow(*, db: Database, user_id: int, key: str, on: bool = True) -> bool:
    """Follow (on) or stop following an author; raises `NoSuchAuthor` when following one that
    has no paper here. True if anything changed."""
    if on:
        _person(db, key)
    with db.write() as conn:
        return store.set_follow(conn, user_id=user_id, author_key=key, on=on)


def follows(*, db: Database, user_id: int) -> list[str]:
    """The author keys the member follows."""
    with db.read() as conn:
        return store.follows_of(conn, user_id=user_id)


def is_following(*, db: Database, user_id: int, key: str) -> bool:
    return key in follows(db=db, user_id=user_id)


@dataclass(frozen=True, slots=True)
class Followed:
    """A paper of a followed author, and the author's name."""

    paper_id: str
    day: dt.date | None
    author: str


def followed_papers(
    *, db: Database, user_id: int, since: dt.date, until: dt.date | None = None
) -> list[Followed]:
    """The papers of the authors a member follows announced from `since` to `until`
    (included), newest first, each once (with the first followed author named)."""
    keys = follows(db=db, user_id=user_id)
    if not keys:
        return []
    found: dict[str, Followed] = {}
    for key in keys:
        try:
            _, person = _person(db, key)
        except NoSuchAuthor:
            continue
        name = _display(person)
        with db.read() as conn:
            facts = store.paper_facts(conn, person.papers)
        for f in facts:
            if f.day is None or f.day < since or (until is not None and f.day > until):
                continue
            found.setdefault(f.paper_id, Followed(f.paper_id, f.day, name))
    return sorted(found.values(), key=lambda f: (f.day or dt.date.min, f.paper_id), reverse=True)


def has_follows(*, db: Database, user_id: int) -> bool:
    return bool(follows(db=db, user_id=user_id))


# Claims


def request_claim(*, db: Database, user: User, key: str, note: str = "") -> int:
    """Ask a curator to confirm that the member is this author; return the claim's id.

    Raises `NoSuchAuthor`, `ClaimRefused` (already claimed by them or someone else) or
    `RateLimited`, in that order.
    """
    _person(db, key)
    with db.read() as conn:
        claims = store.claims_of_key(conn, author_key=key)
    if any(c.user.user_id == user.user_id and c.status in (PENDING, APPROVED) for c in claims):
        raise ClaimRefused("You have already claimed this author page.")
    if any(c.status == APPROVED for c in claims):
        raise ClaimRefused("Another member has claimed this author page.")
    limits.hit(db=db, limit=limits.CLAIM_PER_USER, who=str(user.user_id))
    text = " ".join(note.split())[:MAX_NOTE] or None
    with db.write() as conn:
        return store.add_claim(conn, user_id=user.user_id, author_key=key, note=text)


@dataclass(frozen=True, slots=True)
class PendingClaim:
    claim: Claim
    author: str
    papers: int


def pending_claims(*, db: Database) -> list[PendingClaim]:
    """The claims waiting for a curator, oldest first, with the author's name and papers."""
    with db.read() as conn:
        claims = store.pending_claims(conn)
    found = []
    for claim in claims:
        try:
            _, person = _person(db, claim.author_key)
            found.append(PendingClaim(claim, _display(person), len(person.papers)))
        except NoSuchAuthor:
            found.append(PendingClaim(claim, claim.author_key, 0))
    return found


def decide_claim(*, db: Database, curator: User, claim_id: int, approve: bool) -> Claim:
    """Approve or refuse a pending claim; raises `ClaimRefused` when it is not pending or the
    author page is claimed already."""
    with db.write() as conn:
        claim = store.get_claim(conn, claim_id)
        if claim is None or claim.status != PENDING:
            raise ClaimRefused("This claim is not waiting for a decision.")
        others = store.claims_of_key(conn, author_key=claim.author_key)
        if approve and any(c.status == APPROVED for c in others):
            raise ClaimRefused("Another member has claimed this author page already.")
        status = APPROVED if approve else REFUSED
        store.decide_claim(conn, claim_id=claim_id, status=status, curator_id=curator.user_id)
        decided = store.get_claim(conn, claim_id)
    assert decided is not None
    return decided


def claims_of(*, db: Database, user_id: int) -> list[Claim]:
    with db.read() as conn:
        return store.claims_of_user(conn, user_id=user_id)


@dataclass(frozen=True, slots=True)
class MyAuthor:
    """An author page a member claimed (approved), with its newest papers."""

    key: str
    name: str
    total: int
    papers: Sequence[PaperRecord]


def my_papers(*, db: Database, user_id: int, most: int = 10) -> list[MyAuthor]:
    """The member's approved author pages, each with its `most` newest papers."""
    found = []
    for claim in claims_of(db=db, user_id=user_id):
        if claim.status != APPROVED:
            continue
        try:
            page = author_page(db=db, key=claim.author_key, page_size=most)
        except NoSuchAuthor:
            continue
        found.append(MyAuthor(page.key, page.name, page.total, page.papers))
    return found


def claims_paper(*, db: Database, user_id: int, paper_id: str) -> bool:
    """Whether the member has an approved claim of an author of this paper."""
    for claim in claims_of(db=db, user_id=user_id):
        if claim.status != APPROVED:
            continue
        try:
            _, person = _person(db, claim.author_key)
        except NoSuchAuthor:
            continue
        if paper_id in person.papers:
            return True
    return False
