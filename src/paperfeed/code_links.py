"""Code and project links of a paper: GitHub and GitLab repositories, Hugging Face models,
datasets and Spaces, and a project page, found in the abstract and the arXiv comment.

Pure: text in, links out. The store keeps them (db/links.py) and members may correct them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

GITHUB, GITLAB = "github", "gitlab"
HF_MODEL, HF_DATASET, HF_SPACE = "hf_model", "hf_dataset", "hf_space"
PROJECT = "project"
REPOSITORY_KINDS = (GITHUB, GITLAB)
CODE_KINDS = (GITHUB, GITLAB, HF_MODEL, HF_DATASET, HF_SPACE)
KINDS = (*CODE_KINDS, PROJECT)
MAX_URL = 500

_URL = re.compile(r"https?://[^\s<>\"'{}|\\^`\[\]]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
# Words just before a URL that make it the paper's own page (not a blog, a dataset, a paper).
_PAGE_LABEL = re.compile(
    r"(project\s*(page|website|site|homepage)|home\s*page|web\s*site|webpage|website|demo"
    r"|page)\s*(is\s+)?(available\s+)?(at|here)?\s*[:：]?\s*$",
    re.IGNORECASE,
)
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_GITHUB_PATH = re.compile(rf"^/({_NAME})/({_NAME})")
_GITHUB_NOT_OWNERS = frozenset(
    {"about", "features", "orgs", "topics", "marketplace", "sponsors", "settings", "login"}
)
_HF_NOT_OWNERS = frozenset(
    {"papers", "docs", "blog", "learn", "collections", "organizations", "settings", "join"}
)
_NOT_PAGES = (
    "arxiv.org",
    "doi.org",
    "dx.doi.org",
    "creativecommons.org",
    "anonymous.4open.science",
    "openreview.net",
    "aclanthology.org",
    "youtube.com",
    "youtu.be",
    "twitter.com",
    "x.com",
    "zenodo.org",
    "colab.research.google.com",
    "drive.google.com",
)


@dataclass(frozen=True, slots=True)
class PaperLink:
    """One link of a paper: its kind (`github`, `gitlab`, `hf_model`, `hf_dataset`, `hf_space`
    or `project`) and its canonical URL."""

    kind: str
    url: str


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def classify(url: str) -> PaperLink | None:
    """The link `url` is, canonical (a repository's root, `https`), or None for a URL that is
    no repository and no Hugging Face page. A project page is never guessed here."""
    url = url.strip().rstrip(_TRAILING)
    if len(url) > MAX_URL:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = _host(url)
    path = parts.path
    if host == "github.com":
        found = _GITHUB_PATH.match(path)
        if not found or found.group(1).lower() in _GITHUB_NOT_OWNERS:
            return None
        repo = found.group(2).removesuffix(".git").rstrip(".")
        if not repo:
            return None
        return PaperLink(GITHUB, f"https://github.com/{found.group(1)}/{repo}")
    if host == "gitlab.com":
        path = path.split("/-/", 1)[0].rstrip("/").removesuffix(".git")
        names = [n for n in path.split("/") if n]
        if len(names) < 2 or not all(re.fullmatch(_NAME, n) for n in names):
            return None
        return PaperLink(GITLAB, "https://gitlab.com/" + "/".join(names))
    if host in ("huggingface.co", "hf.co"):
        names = [n for n in path.split("/") if n]
        kind = HF_MODEL
        if names and names[0] in ("datasets", "spaces"):
            kind = HF_DATASET if names[0] == "datasets" else HF_SPACE
            names = names[1:]
        if len(names) < 2 or names[0].lower() in _HF_NOT_OWNERS:
            return None
        if not (re.fullmatch(_NAME, names[0]) and re.fullmatch(_NAME, names[1])):
            return None
        prefix = "" if kind == HF_MODEL else ("datasets/" if kind == HF_DATASET else "spaces/")
        return PaperLink(kind, f"https://huggingface.co/{prefix}{names[0]}/{names[1].rstrip('.')}")
    return None


def project_page(url: str) -> PaperLink | None:
    """`url` as a project page: any http(s) page that is no repository, no Hugging Face page
    and no paper or file host; None otherwise."""
    url = url.strip().rstrip(_TRAILING)
    if len(url) > MAX_URL or classify(url) is not None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = _host(url)
    if parts.scheme.lower() not in ("http", "https") or "." not in host:
        return None
    if any(host == h or host.endswith("." + h) for h in _NOT_PAGES):
        return None
    if parts.path.lower().endswith(".pdf"):
        return None
    return PaperLink(PROJECT, url)


def find_links(*texts: str | None) -> list[PaperLink]:
    """The links found in `texts` (an abstract, a comment), in order, each URL once.

    Repositories and Hugging Face pages count wherever they appear; a project page only on a
    `github.io` host or right after words that name it ("Project page:", "website at").
    The first project page is kept, later ones are not.
    """
    found: dict[str, PaperLink] = {}
    has_page = False
    for text in texts:
        if not text or "://" not in text:
            continue
        for match in _URL.finditer(text):
            url = match.group(0)
            link = classify(url)
            if link is None and not has_page:
                page = project_page(url)
                labelled = _PAGE_LABEL.search(text[max(0, match.start() - 60) : match.start()])
                if page is not None and (labelled or _host(page.url).endswith(".github.io")):
                    link, has_page = page, True
            if link is not None and link.url.lower() not in found:
                found[link.url.lower()] = link
    return list(found.values())


def main_links(links: Iterable[PaperLink]) -> tuple[str | None, str | None]:
    """The paper's repository (GitHub first, then GitLab) and project page, as Hugging Face
    names them: `githubRepo`, `projectPage`."""
    listed = list(links)
    repo = next((link.url for link in listed if link.kind == GITHUB), None)
    repo = repo or next((link.url for link in listed if link.kind == GITLAB), None)
    page = next((link.url for link in listed if link.kind == PROJECT), None)
    return repo, page


def github_slug(url: str) -> tuple[str, str] | None:
    """(owner, name) of a GitHub repository URL, or None."""
    link = classify(url)
    if link is None or link.kind != GITHUB:
        return None
    owner, name = link.url.removeprefix("https://github.com/").split("/")
    return owner, name
