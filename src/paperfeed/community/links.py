"""A paper's code and project links as members correct them: the submitter of a paper or a
curator may set its repository and project page, and so may a member whose claim of one of its
authors a curator approved (community/authors.py).
"""

from __future__ import annotations

from paperfeed.code_links import GITHUB, GITLAB, MAX_URL, PROJECT, PaperLink, classify
from paperfeed.community import limits
from paperfeed.community.authors import claims_paper
from paperfeed.community.papers import active_paper
from paperfeed.db import links as store
from paperfeed.db.engine import Database
from paperfeed.db.links import NO_LINKS, PaperLinks
from paperfeed.db.users import Role, User

__all__ = ["LinksRefused", "NotAllowed", "edit_links", "may_edit_links", "paper_links"]


class LinksRefused(ValueError):
    """A repository or project page that cannot be used (the message says why)."""


class NotAllowed(PermissionError):
    """The member may not change this paper's links."""


def may_edit_links(*, db: Database, paper_id: str, user: User | None) -> bool:
    """Whether `user` may set the paper's links: a curator, the member who submitted it, or a
    member who claimed one of its authors."""
    if user is None:
        return False
    if user.can(Role.CURATOR):
        return True
    with db.read() as conn:
        if store.submitted_by(conn, paper_id, user.user_id):
            return True
    return claims_paper(db=db, user_id=user.user_id, paper_id=paper_id)


def paper_links(*, db: Database, paper_id: str) -> PaperLinks:
    """The paper's links (none: an empty `PaperLinks`)."""
    with db.read() as conn:
        return store.links_of(conn, [paper_id]).get(paper_id, NO_LINKS)


def _checked(github_repo: str | None, project_page: str | None) -> list[PaperLink]:
    links: list[PaperLink] = []
    repo = (github_repo or "").strip()
    if repo:
        link = classify(repo if "://" in repo else f"https://{repo}")
        if link is None or link.kind not in (GITHUB, GITLAB):
            raise LinksRefused(
                "The repository must be a GitHub or GitLab address, "
                "such as https://github.com/owner/name."
            )
        links.append(link)
    page = (project_page or "").strip()
    if page:
        if len(page) > MAX_URL or not page.lower().startswith(("https://", "http://")):
            raise LinksRefused(
                f"The project page must be a web address (http or https), "
                f"at most {MAX_URL} characters."
            )
        if any(c.isspace() or c in "<>\"'" for c in page):
            raise LinksRefused("The project page must be one web address, without spaces.")
        links.append(PaperLink(PROJECT, page))
    return links


def edit_links(
    *,
    db: Database,
    paper_id: str,
    user: User,
    github_repo: str | None,
    project_page: str | None,
) -> PaperLinks:
    """Set the paper's repository and project page (empty: none); return its links after.

    Raises `NoSuchPaper`, `NotAllowed`, `LinksRefused` or `RateLimited`, in that order.
    """
    active_paper(db=db, paper_id=paper_id)
    if not may_edit_links(db=db, paper_id=paper_id, user=user):
        raise NotAllowed(
            "Only the paper's submitter, a curator or one of its authors may change its links."
        )
    links = _checked(github_repo, project_page)
    limits.hit(db=db, limit=limits.LINKS_PER_USER, who=str(user.user_id))
    with db.write() as conn:
        store.set_links(conn, paper_id, links, source=store.MEMBER, user_id=user.user_id)
        return store.links_of(conn, [paper_id]).get(paper_id, NO_LINKS)
