"""Every digest on the wire: parsed back with `email`, lines within 998, text and HTML parts,
list headers (RFC 2369, RFC 8058), Message-ID from the ledger, Date; DKIM covers list headers."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import shutil
import subprocess
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from paperfeed.db.digests import Subscriber, ledger_rows
from paperfeed.digest.compose import Candidate, DigestPlan
from paperfeed.digest.policy import DeliveryPolicy
from paperfeed.digest.render import Renderer
from paperfeed.digest.service import send_issue
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord
from paperfeed.wording import long_date
from tests.digest.conftest import (
    PUBLIC_URL,
    FakeClock,
    SmtpServer,
    add_readers,
    digest_settings,
    latest_day,
)


def check_message(raw: bytes) -> EmailMessage:
    """The conformance every digest must meet; returns the parsed message."""
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 998 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare line feeds
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe"):
        assert len(message.get_all(name, [])) == 1, name
    # List-Unsubscribe holds plain URLs, never RFC 2047 encoded-words (the List-Id phrase may).
    unsubscribe_raw = head.split("List-Unsubscribe: ", 1)[1].split("\r\nList-", 1)[0]
    assert "=?" not in unsubscribe_raw
    unsubscribe = message["List-Unsubscribe"]
    assert f"<{PUBLIC_URL}/digest/unsubscribe/" in unsubscribe
    assert "<mailto:digest@papers.example.org?subject=unsubscribe-" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].endswith("<digest.papers.example.org>")
    assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "/digest/manage/" in text.get_content() and "Unsubscribe" in html.get_content()
    return message


def test_every_message_sent_conforms_and_carries_its_ledger_message_id(
    hub_factory: Callable[..., Hub], smtp_server: SmtpServer
) -> None:
    hub = hub_factory(smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    add_readers(hub, 25, top_n=5, max_papers=5)
    day = latest_day(hub)
    report = send_issue(hub, kind="daily", period=day, policy=DeliveryPolicy(), clock=FakeClock())
    with hub.db.read() as conn:
        by_email = {r["email"]: r for r in ledger_rows(conn, issue_id=report.issue.issue_id)}
    assert len(smtp_server.handler.received) == 25
    for received in smtp_server.handler.received:
        message = check_message(received.raw)
        row = by_email[received.recipient]
        assert message["Message-ID"] == row["message_id"]
        assert message["To"] == received.recipient
        assert message["Subject"] == f"Daily papers · {long_date(day)} · 5 papers"
        html = message.get_body(("html",))
        assert html is not None
        for paper_id in row["paper_ids"]:
            assert f'href="{PUBLIC_URL}/papers/{paper_id}"' in html.get_content()


def subscriber(**overrides: object) -> Subscriber:
    values: dict[str, object] = {
        "subscriber_id": 7,
        "email": "reader@example.net",
        "status": "active",
        "frequency": "daily",
        "token": "tok_en-123",
    }
    return Subscriber(**(values | overrides))  # type: ignore[arg-type]


def plan_of(*papers: PaperRecord) -> DigestPlan:
    return DigestPlan(
        kind="daily",
        period=dt.date(2026, 3, 20),
        items=tuple(Candidate(p, "trending: 3 upvotes") for p in papers),
    )


def test_titles_are_escaped_in_html_and_unicode_survives_both_parts(tmp_path: Path) -> None:
    renderer = Renderer(digest_settings(tmp_path, site_name="Papiers à lire"))
    hostile = PaperRecord(
        paper_id="2603.00001",
        title="<script>alert(1)</script> Schrödinger's «cat» and a very " + "long " * 300,
        abstract="…",
        authors=("Zoë Ä", "B", "C", "D", "E", "F"),
    )
    raw = renderer.digest(
        plan=plan_of(hostile), subscriber=subscriber(), message_id="<x.1@papers.example.org>"
    )
    message = check_message(raw)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    assert "<script>" not in html.get_content()
    assert "&lt;script&gt;" in html.get_content()
    assert "Schrödinger's «cat»" in text.get_content()
    assert "Zoë Ä, B, C, D … and 2 more" in text.get_content()
    assert message["Subject"] == "Daily papers · Friday, 20 March 2026 · 1 paper"
    assert "Papiers à lire" in text.get_content()


def test_a_line_starting_with_a_dot_survives_smtp(
    hub_factory: Callable[..., Hub], smtp_server: SmtpServer
) -> None:
    from paperfeed.mail.smtp import SmtpSender

    renderer = Renderer(digest_settings(Path("unused")))
    dotted = PaperRecord(paper_id="2603.00002", title=".NET at scale", abstract="…")
    raw = renderer.digest(plan=plan_of(dotted), subscriber=subscriber(), message_id="<d.1@x>")
    sender = SmtpSender(host="127.0.0.1", port=smtp_server.port)
    outcome = sender.send(raw, sender="digest@papers.example.org", recipient="reader@example.net")
    sender.close()
    assert outcome.kind == "sent"
    assert smtp_server.handler.received[0].raw.replace(b"\r\n", b"\n") == raw.replace(
        b"\r\n", b"\n"
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a key")
def test_dkim_signature_covers_the_list_headers_and_verifies(tmp_path: Path) -> None:
    import dkim

    key = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    renderer = Renderer(digest_settings(tmp_path, digest_dkim_key_file=key))
    paper = PaperRecord(paper_id="2603.00003", title="Signed", abstract="…")
    raw = renderer.digest(plan=plan_of(paper), subscriber=subscriber(), message_id="<s.1@x>")
    check_message(raw)
    header = raw.split(b"\r\n\r\n", 1)[0].decode()
    signed = header.split("h=", 1)[1].split(";", 1)[0].replace(" ", "").replace("\r\n", "")
    assert {"list-unsubscribe", "list-unsubscribe-post", "list-id"} <= set(signed.split(":"))

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"paperfeed._domainkey.papers.example.org."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    tampered = raw.replace(b"/digest/unsubscribe/", b"/digest/unsubscrib3/", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_tex_in_titles_reads_as_on_the_web(tmp_path: Path) -> None:
    # The web cleaned \textbf{…} and unknown macros; the mail showed them raw (#11).
    renderer = Renderer(digest_settings(tmp_path))
    paper = PaperRecord(
        paper_id="2603.00002",
        title=r"\textbf{\emph{Personalize Anything}} with \method{} for $\alpha<\beta$",
        abstract="…",
    )
    raw = renderer.digest(
        plan=plan_of(paper), subscriber=subscriber(), message_id="<x.2@papers.example.org>"
    )
    message = check_message(raw)
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        assert part is not None
        assert "\\textbf" not in part.get_content() and "\\method" not in part.get_content()
    text = message.get_body(("plain",))
    assert text is not None
    assert "Personalize Anything with for $\\alpha<\\beta$" in text.get_content()
