"""One address parser for sign-in, digests and imports (paperfeed/addresses.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.addresses import InvalidAddress, is_address, normalize_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("You@Example.org", "you@example.org"),
        ("  reader@example.com\t", "reader@example.com"),
        ("a.b+tag@sub.example.net", "a.b+tag@sub.example.net"),
        ("a@bücher.de", "a@xn--bcher-kva.de"),
    ],
)
def test_normalize_address_lowercases_and_trims_one_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "a@x.org,b@y.org",  # a list mails everyone on it
        "a@x.org, b@y.org",
        "victim@x.org;1",  # a suffix is a new rate-limit key
        "victim@x.org;2",
        "a\x00@x.org",
        "a@x.org\x00",
        "a@x.org\r\nBcc: b@y.org",
        "a@x.org\nX: y",
        '"a b"@x.org',
        "Name <a@x.org>",
        "<a@x.org>",
        "a@localhost",
        "a@[127.0.0.1]",
        "no-at-sign.org",
        "a@@x.org",
        "x" * 250 + "@example.org",
    ],
)
def test_normalize_address_refuses_what_is_not_one_address(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalize_address(raw)
    assert not is_address(raw)


@given(st.text(max_size=80))
def test_normalize_address_accepts_only_what_it_returns_unchanged(raw: str) -> None:
    try:
        address = normalize_address(raw)
    except InvalidAddress:
        return
    assert normalize_address(address) == address
    assert address.count("@") == 1
    assert not any(ch in address for ch in ',;<>"\r\n\x00 ')
