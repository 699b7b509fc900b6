"""The arXiv listing feed parser, on a page shaped like rss.arxiv.org/atom/{category}: ids and
versions, kinds, abstracts after "Abstract:", authors, the listing day, and refused pages."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.ingest._http import PageError
from paperfeed.ingest.arxiv_listing import listing_url, parse_listing

PAGE = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
      xmlns="http://www.w3.org/2005/Atom" xml:lang="en-us">
  <id>http://rss.arxiv.org/atom/cs.AI</id>
  <title>cs.AI updates on arXiv.org</title>
  <updated>2026-03-17T04:00:00.000Z</updated>
  <entry>
    <id>oai:arXiv.org:2603.13435v1</id>
    <title>SVDformer: Direction-Aware Spectral Graph
      Embedding Learning via SVD and Transformer</title>
    <updated>2026-03-17T00:00:00-04:00</updated>
    <link href="https://arxiv.org/abs/2603.13435" rel="alternate" type="text/html"/>
    <summary>arXiv:2603.13435v1 Announce Type: new
Abstract: Directed graphs are widely used to model asymmetric relationships.</summary>
    <category term="cs.AI" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <published>2026-03-17T00:00:00-04:00</published>
    <arxiv:announce_type>new</arxiv:announce_type>
    <rights>http://creativecommons.org/licenses/by/4.0/</rights>
    <dc:creator>Jiayu Fang, Zhiqi Shao, S T Boris Choy and Junbin Gao</dc:creator>
  </entry>
  <entry>
    <id>oai:arXiv.org:2603.10001v1</id>
    <title>Cross listed</title>
    <summary>arXiv:2603.10001v1 Announce Type: cross
Abstract: Something from another archive.</summary>
    <category term="stat.ML" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.AI" scheme="http://arxiv.org/schemas/atom"/>
    <published>2026-03-17T00:00:00-04:00</published>
    <arxiv:announce_type>cross</arxiv:announce_type>
    <dc:creator>Alice Smith and Bob Lee</dc:creator>
  </entry>
  <entry>
    <id>oai:arXiv.org:2510.00002v3</id>
    <title>A replaced paper</title>
    <summary>arXiv:2510.00002v3 Announce Type: replace-cross
Abstract: Now with more experiments.</summary>
    <category term="cs.AI" scheme="http://arxiv.org/schemas/atom"/>
    <published>2026-03-17T00:00:00-04:00</published>
    <arxiv:announce_type>replace-cross</arxiv:announce_type>
    <dc:creator>Carol</dc:creator>
  </entry>
  <entry>
    <id>oai:arXiv.org:2603.10003v1</id>
    <title>Unknown kind</title>
    <summary>arXiv:2603.10003v1 Announce Type: mystery
Abstract: ?</summary>
    <published>2026-03-17T00:00:00-04:00</published>
    <arxiv:announce_type>mystery</arxiv:announce_type>
  </entry>
</feed>
"""


def test_a_listing_gives_each_paper_with_its_kind_and_day() -> None:
    listing = parse_listing(PAGE, category="cs.AI")
    assert listing.day == dt.date(2026, 3, 17)
    kinds = [(p.record.paper_id, p.record.version, p.kind) for p in listing.papers]
    assert kinds == [
        ("2603.13435", 1, "new"),
        ("2603.10001", 1, "cross-list"),
        ("2510.00002", 3, "replacement"),
    ]
    first = listing.papers[0].record
    assert first.title.startswith("SVDformer: Direction-Aware Spectral Graph Embedding")
    assert first.abstract == "Directed graphs are widely used to model asymmetric relationships."
    assert first.authors == ("Jiayu Fang", "Zhiqi Shao", "S T Boris Choy", "Junbin Gao")
    assert first.categories == ("cs.AI", "cs.LG") and first.primary_category == "cs.AI"
    assert first.announced == dt.date(2026, 3, 17)
    assert first.license == "http://creativecommons.org/licenses/by/4.0/"
    assert listing.papers[1].record.authors == ("Alice Smith", "Bob Lee")
    assert listing.papers[1].record.primary_category == "stat.ML"
    assert listing.papers[2].record.announced is None  # announced new on an earlier day
    assert [r.reason for r in listing.rejected] == ["unknown announce type 'mystery'"]


def test_an_empty_listing_is_dated_by_the_feed() -> None:
    page = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id>'
        b"<updated>2026-03-18T04:00:00Z</updated></feed>"
    )
    listing = parse_listing(page, category="cs.AI")
    assert listing.day == dt.date(2026, 3, 18) and listing.papers == []


def test_pages_that_are_no_listing_are_refused() -> None:
    with pytest.raises(PageError, match="Atom"):
        parse_listing(b"<rss version='2.0'><channel/></rss>", category="cs.AI")
    with pytest.raises(PageError, match="DTD"):
        parse_listing(
            b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "b">]><feed/>', category="cs.AI"
        )


def test_the_category_goes_into_the_url_template() -> None:
    assert listing_url("https://rss.arxiv.org/atom/{category}", "hep-th") == (
        "https://rss.arxiv.org/atom/hep-th"
    )
    with pytest.raises(ValueError, match="http"):
        listing_url("file:///etc/{category}", "cs.AI")
