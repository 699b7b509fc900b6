"""SMTP on one reused connection: the only module that speaks SMTP.

Each send reports what the server said as an `Outcome`, and tells apart a refusal, a drop
before the message was handed over (safe to resend) and a drop after it (ambiguous: the server
may have it; resend with the same Message-ID).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable

from paperfeed.mail.sender import ConnectError, Outcome
from paperfeed.settings import Settings

# RFC 3463 / RFC 5321: these say the mailbox itself is bad, not that the server is unwell.
_HARD_BOUNCE_CODES = frozenset({550, 551, 553})
_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _classify(code: int, reply: bytes | str, stage: str) -> Outcome:
    text = f"{stage}: {code} {_reply_text(reply)}"
    if 400 <= code < 500:
        return Outcome("deferred", code, text)
    hard = stage == "RCPT" and (code in _HARD_BOUNCE_CODES or b"5.1." in _as_bytes(reply))
    return Outcome("failed", code, text, hard_bounce=hard)


def _as_bytes(reply: bytes | str) -> bytes:
    return reply if isinstance(reply, bytes) else reply.encode()


def data_payload(raw: bytes) -> bytes:
    """A message (CRLF line ends) as DATA sends it: dot-stuffed and terminated (RFC 5321)."""
    data = _DOT_AT_LINE_START.sub(b"..", raw)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class SmtpSender:
    """SMTP with smtplib over one connection, opened on first use and reused.

    `hook` is called at the two points where a crash makes a duplicate possible:
    `data_sent` (the message is handed over, the reply not read) and `reply_received`.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: str = "none",
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
        hook: Callable[[str], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.user = user
        self.password = password
        self.timeout_s = timeout_s
        self.hook = hook or (lambda _point: None)
        self._smtp: smtplib.SMTP | None = None
        self.connections = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, hook: Callable[[str], None] | None = None
    ) -> SmtpSender:
        """The server, port, TLS mode and login of Settings `smtp_*`."""
        if not settings.smtp_host:
            raise ValueError("SmtpSender needs settings.smtp_host")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            user=settings.smtp_user,
            password=settings.smtp_password,
            timeout_s=settings.smtp_timeout_s,
            hook=hook,
        )

    def connect(self) -> None:
        """Open the connection if none is open; raise ConnectError if the server is unreachable."""
        if self._smtp is not None:
            return
        try:
            if self.tls == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout_s,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            try:
                smtp.ehlo()
                if self.tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user:
                    smtp.login(self.user, self.password or "")
            except BaseException:
                smtp.close()
                raise
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectError(f"cannot reach {self.host}:{self.port}: {exc}") from exc
        self.connections += 1
        self._smtp = smtp

    def send(self, raw: bytes, *, sender: str, recipient: str) -> Outcome:
        """Send one message: MAIL, RCPT, DATA on the open connection (opened if needed)."""
        self.connect()
        smtp = self._smtp
        assert smtp is not None
        payload = data_payload(raw)
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                self._reset(code)
                return _classify(code, reply, "MAIL")
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._reset(code)
                return _classify(code, reply, "RCPT")
            # smtplib.data() sends the payload and reads the reply in one call; done by hand
            # here so a crash can be placed between the two (the ambiguous window).
            code, reply = smtp.docmd("DATA")
            if code != 354:
                self._reset(code)
                return _classify(code, reply, "DATA")
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            return Outcome("deferred", None, f"connection lost before the data: {exc}")
        try:
            smtp.send(payload)
            self.hook("data_sent")
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            return Outcome("ambiguous", None, f"connection lost after the data: {exc}")
        if code == 250:
            self.hook("reply_received")
            return Outcome("sent", code, _reply_text(reply))
        if code == 421:
            self._drop()
        return _classify(code, reply, "DATA")

    def _reset(self, code: int) -> None:
        """After a refusal: RSET to reuse the connection, or drop it if the server is leaving."""
        if code == 421 or self._smtp is None:
            self._drop()
            return
        try:
            self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        """Say QUIT and close (quietly: the server may be gone already)."""
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            self._drop()
