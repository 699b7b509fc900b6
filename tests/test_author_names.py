"""Author names: folding, name orders, particles, suffixes, TeX, and grouping an initial with a
full given name only through shared co-authors (false merges stay apart)."""

from __future__ import annotations

import pytest

from paperfeed.author_names import (
    AuthorName,
    Authorship,
    bucket_of,
    group_people,
    is_key,
    parse_name,
    split_key,
)


def _name(text: str) -> AuthorName:
    name = parse_name(text)
    assert name is not None, text
    return name


@pytest.mark.parametrize(
    ("written", "key", "bucket"),
    [
        ("Ashish Vaswani", "vaswani-ashish", "vaswani-a"),
        ("A. Vaswani", "vaswani-a", "vaswani-a"),
        ("Vaswani, Ashish", "vaswani-ashish", "vaswani-a"),
        ("Vaswani, A.", "vaswani-a", "vaswani-a"),
        ("A Vaswani", "vaswani-a", "vaswani-a"),
        ("Hans Müller", "muller-hans", "muller-h"),
        ('Hans M{\\"u}ller', "muller-hans", "muller-h"),
        ('H. M\\"uller', "muller-h", "muller-h"),
        ("Müller, Hans", "muller-hans", "muller-h"),
        ("{\\O}stergaard, Jan", "ostergaard-jan", "ostergaard-j"),
        ("Pawe{\\l} Nowak", "nowak-pawel", "nowak-p"),
        ("Aäron van den Oord", "vandenoord-aaron", "vandenoord-a"),
        ("A. van den Oord", "vandenoord-a", "vandenoord-a"),
        ("van den Oord, Aäron", "vandenoord-aaron", "vandenoord-a"),
        ("Daniel von Dincklage", "vondincklage-daniel", "vondincklage-d"),
        ("Nicola De Cao", "decao-nicola", "decao-n"),
        ("A. de la Macorra", "delamacorra-a", "delamacorra-a"),
        ("John Smith Jr.", "smith-john", "smith-j"),
        ("John Smith, Jr.", "smith-john", "smith-j"),
        ("Smith, Jr., John", "smith-john", "smith-j"),
        ("Smith, John, III", "smith-john", "smith-j"),
        ("Christopher D. Manning", "manning-christopher", "manning-c"),
        ("J.-P. Sartre", "sartre-j", "sartre-j"),
        ("Jean-Pierre Sartre", "sartre-jeanpierre", "sartre-j"),
        ("Dan Holtmann-Rice", "holtmannrice-dan", "holtmannrice-d"),
        ("Maigo Le", "le-maigo", "le-m"),
        ("Katrina", "katrina", "katrina"),
        ("Maura O'Brien", "obrien-maura", "obrien-m"),
    ],
)
def test_names_read_into_keys(written: str, key: str, bucket: str) -> None:
    name = _name(written)
    assert (name.key, name.bucket) == (key, bucket)
    assert bucket_of(key) == bucket and is_key(key)


def test_a_name_is_shown_given_name_first_with_tex_decoded() -> None:
    assert _name("Vaswani, Ashish").written == "Ashish Vaswani"
    assert _name('M{\\"u}ller, Hans').written == "Hans Müller"
    assert _name("Smith, Jr., John").written == "John Smith"


@pytest.mark.parametrize("text", ["", "   ", "et al.", "others", "–", ",,"])
def test_what_is_not_a_name_has_no_key(text: str) -> None:
    assert parse_name(text) is None


def test_keys_split_and_reject_what_a_name_never_gives() -> None:
    assert split_key("vandenoord-aaron") == ("vandenoord", "aaron")
    assert split_key("katrina") == ("katrina", "")
    assert not is_key("Vaswani-Ashish") and not is_key("a b") and not is_key("-x")


def _on(paper_id: str, me: str, *others: str) -> Authorship:
    return Authorship(paper_id, _name(me), frozenset(_name(o) for o in others))


def test_an_initial_joins_the_full_name_it_shares_a_coauthor_with() -> None:
    people = group_people(
        [
            _on("p1", "Ashish Vaswani", "Noam Shazeer", "Niki Parmar"),
            _on("p2", "A. Vaswani", "N. Shazeer"),  # the initial of Noam Shazeer matches
            _on("p3", "Vaswani, A.", "Niki Parmar"),  # the same full co-author
        ]
    )
    assert people[("p2", "vaswani-a")] == "vaswani-ashish"
    assert people[("p3", "vaswani-a")] == "vaswani-ashish"


def test_an_initial_that_shares_nobody_stays_apart() -> None:
    """Two people with one initial and family name, who never wrote with the same people."""
    people = group_people(
        [
            _on("p1", "Ashish Vaswani", "Noam Shazeer"),
            _on("p2", "A. Vaswani", "Maria Rossi", "J. Doe"),
        ]
    )
    assert people[("p2", "vaswani-a")] == "vaswani-a"
    assert people[("p1", "vaswani-ashish")] == "vaswani-ashish"


def test_two_full_given_names_of_one_initial_never_merge() -> None:
    people = group_people(
        [
            _on("p1", "Ashish Vaswani", "Noam Shazeer"),
            _on("p2", "Ashwin Vaswani", "Noam Shazeer"),  # even with a co-author in common
        ]
    )
    assert people[("p1", "vaswani-ashish")] == "vaswani-ashish"
    assert people[("p2", "vaswani-ashwin")] == "vaswani-ashwin"


def test_an_initial_matching_two_full_names_stays_apart() -> None:
    people = group_people(
        [
            _on("p1", "Ashish Vaswani", "Noam Shazeer"),
            _on("p2", "Ashwin Vaswani", "Maria Rossi"),
            _on("p3", "A. Vaswani", "Noam Shazeer", "Maria Rossi"),
        ]
    )
    assert people[("p3", "vaswani-a")] == "vaswani-a"


def test_a_shared_initial_coauthor_of_another_bucket_does_not_match() -> None:
    """N. Shazeer on one paper and Nina Sharma on the other share no bucket."""
    people = group_people(
        [
            _on("p1", "Ashish Vaswani", "N. Shazeer"),
            _on("p2", "A. Vaswani", "Nina Sharma"),
        ]
    )
    assert people[("p2", "vaswani-a")] == "vaswani-a"


def test_huge_collaborations_do_not_join_names() -> None:
    crowd = [f"Person{i} Crowd{i}" for i in range(150)]
    people = group_people(
        [
            _on("p1", "Ashish Vaswani", *crowd),
            _on("p2", "A. Vaswani", *crowd),
        ]
    )
    assert people[("p2", "vaswani-a")] == "vaswani-a"
