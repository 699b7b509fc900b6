"""Email addresses: the one parser and normalization for sign-in, digests and imports.

Pure (no I/O): syntax only, through email-validator, never a DNS look-up. One address in, one
normalized address out, or `InvalidAddress` with a reason a person can read.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS = 254  # RFC 5321 path limit, less the angle brackets


class InvalidAddress(ValueError):
    """The text is not exactly one email address we can send mail to."""


def normalize_address(raw: str) -> str:
    """Return `raw` as one normalized address (ASCII, lower-cased), or raise `InvalidAddress`.

    Surrounding spaces are trimmed; anything else that is not part of a single plain
    address (lists, display names, quoted local parts, control characters such as CR, LF
    or NUL) is refused, so an address is always one mailbox and one rate-limit key.
    """
    text = raw.strip()
    if not text:
        raise InvalidAddress("Enter an email address, like name@example.org.")
    if len(text) > MAX_ADDRESS or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise InvalidAddress("That is not an email address.")
    try:
        checked = validate_email(
            text,
            check_deliverability=False,  # syntax only: no DNS from a form post
            allow_smtputf8=False,  # the digest's SMTP path is plain ASCII
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
        )
    except EmailNotValidError as exc:
        raise InvalidAddress(f"That is not an email address: {exc}") from None
    # Whole address lower-cased: mailboxes are case-insensitive in practice, and one reader
    # must not get two accounts (the rule the store has always applied).
    address = str(checked.ascii_email or checked.normalized).lower()
    if len(address) > MAX_ADDRESS:
        raise InvalidAddress("That is not an email address: it is too long.")
    return address


def is_address(raw: str) -> bool:
    """Whether `raw` is exactly one address `normalize_address` accepts."""
    try:
        normalize_address(raw)
    except InvalidAddress:
        return False
    return True
