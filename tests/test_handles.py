"""Handles: what one may be, the one an address suggests, and the mentions in a text."""

from __future__ import annotations

import pytest

from paperfeed.handles import (
    HandleRefused,
    checked_handle,
    derive_handle,
    handle_base,
    mentioned_handles,
)


@pytest.mark.parametrize(
    ("text", "handle"),
    [("ada", "ada"), ("@Ada_L", "ada_l"), ("  x9_ ", "x9_"), ("a" * 30, "a" * 30)],
)
def test_a_handle_is_lower_case_letters_digits_and_underscores(text: str, handle: str) -> None:
    assert checked_handle(text) == handle


@pytest.mark.parametrize(
    "text",
    ["", "ab", "a" * 31, "_ada", "ada lovelace", "ada.l", "a@b.org", "<b>x</b>", "adé", "admin"],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(HandleRefused):
        checked_handle(text)


def test_an_address_suggests_its_local_part_never_its_domain() -> None:
    assert handle_base("Ada.Lovelace+papers@example.org") == "ada_lovelace"
    assert handle_base("x@example.org") == "x_member"
    assert handle_base("...@example.org") == "member"
    assert handle_base("everyone@example.org") == "everyone_member"
    assert len(handle_base("a" * 64 + "@example.org")) <= 26
    assert checked_handle(handle_base("Ada.Lovelace+papers@example.org"))


def test_a_taken_handle_gets_the_next_free_number() -> None:
    taken = {"sam", "sam2"}
    assert derive_handle("sam@x.org", taken.__contains__) == "sam3"
    assert derive_handle("kim@x.org", taken.__contains__) == "kim"


def test_mentions_are_handles_after_an_at_sign_not_inside_words_or_addresses() -> None:
    text = "@Ada and @bob_2, cc @ada again; mail me@host.org or a@b; @@x @no @everyone (@zed)."
    assert mentioned_handles(text) == ["ada", "bob_2", "zed"]
    assert mentioned_handles("email@ada.org") == []
