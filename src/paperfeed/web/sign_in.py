"""Sign-in by magic link, sign-out, and the development mailbox.

1. POST /sign-in with an email: the same answer for every address (known, unknown, new); a
   link valid for 10 minutes is mailed, bound to the asking browser (the SHA-256 of its
   browser-id cookie is stored with the link).
2. GET /sign-in/verify?token=…: checks the link and shows one "Sign in" button. The link itself
   changes nothing, so mail scanners that open links cannot use it up.
3. POST /sign-in/verify: uses the link (once), from the same browser only; creates the user on
   first sign-in, starts a session and goes to `next` (same-site paths only).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from paperfeed.addresses import InvalidAddress
from paperfeed.community import accounts
from paperfeed.community.limits import RateLimited
from paperfeed.db.mailbox import get_message, list_messages
from paperfeed.hub import Hub
from paperfeed.mail import MailError
from paperfeed.web import ratelimit
from paperfeed.web.auth import OptionalUser, safe_next
from paperfeed.web.cookies import clear_cookie, cookie_policy, set_cookie
from paperfeed.web.csrf_tokens import browser_id
from paperfeed.web.deps import HubDep, RowId
from paperfeed.web.rendering import render_error, templates

logger = logging.getLogger(__name__)

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

MAX_EMAIL = 320
SESSION_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest Chromium keeps a cookie


@router.get("/sign-in", name="sign_in")
def sign_in_page(request: Request, hub: HubDep, user: OptionalUser, next: str = "/") -> Response:
    context: dict[str, Any] = {
        "next": safe_next(next),
        "email": "",
        "error": None,
        "dev_mailbox": hub.settings.smtp_host is None,
        "section": "sign-in",
        "signed_in_as": user,
    }
    return templates.TemplateResponse(request, "community/sign_in.html", context)


@router.post("/sign-in")
def ask_for_link(
    request: Request,
    hub: HubDep,
    email: Annotated[str, Form(max_length=MAX_EMAIL * 2)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Mail a sign-in link; the answer does not say whether the address has an account.

    Anything but exactly one address (lists, `;` suffixes, NUL, CR or LF) gets the form back
    with a 400, before anything is counted or stored.
    """
    target = safe_next(next)
    try:
        asked = accounts.ask_for_sign_in(
            db=hub.db,
            email=email,
            client=ratelimit.client_key(request),
            browser_id=browser_id(request),
            next_path=target,
        )
    except InvalidAddress:
        context = {
            "next": target,
            "email": email[:MAX_EMAIL],
            "error": "Enter an email address, like ada@example.org.",
            "dev_mailbox": hub.settings.smtp_host is None,
            "section": "sign-in",
            "signed_in_as": None,
        }
        return templates.TemplateResponse(
            request, "community/sign_in.html", context, status_code=400
        )
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    address, token = asked.address, asked.token
    link = hub.settings.public_url.rstrip("/") + "/sign-in/verify?token=" + quote(token)
    try:
        _send_link(hub.mailer, hub.settings.site_name, address, link)
    except MailError:
        logger.exception("could not send the sign-in link")
        raise HTTPException(
            status_code=503, detail="The sign-in email could not be sent; try again later."
        ) from None
    context = {"dev_mailbox": hub.settings.smtp_host is None, "section": "sign-in"}
    return templates.TemplateResponse(request, "community/sign_in_sent.html", context)


def _send_link(mailer: Any, site_name: str, address: str, link: str) -> None:
    if mailer is None:
        raise MailError("this hub has no mailer")
    message = EmailMessage()
    message["To"] = address
    message["Subject"] = f"Your sign-in link for {site_name}"
    message.set_content(
        f"Open this link to sign in to {site_name}:\n\n{link}\n\n"
        "It works once, for 10 minutes, in the browser where you asked for it.\n"
        "If you did not ask to sign in, ignore this email.\n"
    )
    html = templates.env.get_template("community/sign_in_email.html").render(
        site_name=site_name, link=link
    )
    message.add_alternative(html, subtype="html")
    mailer.send(message)


_LINK_STATUS = {
    accounts.LinkNotValid: 400,
    accounts.LinkUsed: 410,
    accounts.LinkExpired: 410,
    accounts.WrongBrowser: 403,
}


def _link_refused(exc: accounts.SignInLinkError) -> HTTPException:
    return HTTPException(status_code=_LINK_STATUS.get(type(exc), 400), detail=str(exc))


def _check_link(request: Request, hub: Hub, token: str) -> accounts.SignInLink:
    try:
        return accounts.check_sign_in_link(db=hub.db, token=token, browser_id=browser_id(request))
    except accounts.SignInLinkError as exc:
        raise _link_refused(exc) from None


@router.get("/sign-in/verify", name="verify_sign_in")
def confirm_page(request: Request, hub: HubDep, token: str = "") -> Response:
    link = _check_link(request, hub, token)
    context = {"token": token, "email": link.email, "section": "sign-in"}
    return templates.TemplateResponse(request, "community/sign_in_confirm.html", context)


@router.post("/sign-in/verify")
def sign_in(
    request: Request, hub: HubDep, token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    policy = cookie_policy(hub.settings)
    try:
        signed_in = accounts.sign_in(
            db=hub.db,
            token=token,
            browser_id=browser_id(request),
            previous_session=request.cookies.get(policy.session),
        )
    except accounts.SignInLinkError as exc:
        raise _link_refused(exc) from None
    response = RedirectResponse(safe_next(signed_in.next_path), status_code=303)
    # The row's sliding 30-day expiry decides; the cookie just lives as long as browsers allow.
    set_cookie(
        response, policy.session, signed_in.session_token, SESSION_COOKIE_MAX_AGE, policy.secure
    )
    return response


@router.post("/sign-out", name="sign_out")
def sign_out(request: Request, hub: HubDep) -> Response:
    policy = cookie_policy(hub.settings)
    token = request.cookies.get(policy.session)
    if token:
        accounts.sign_out(db=hub.db, session_token=token)
    response = RedirectResponse("/", status_code=303)
    clear_cookie(response, policy.session, policy.secure)
    return response


# The development mailbox: only while no SMTP server is set (docs/web.md).

_MAILBOX_HTML_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)


def _require_dev_mailbox(hub: Any) -> None:
    if hub.settings.smtp_host is not None:
        raise HTTPException(status_code=404)


@router.get("/dev/mailbox", name="dev_mailbox")
def mailbox(request: Request, hub: HubDep, to: str = "") -> Response:
    _require_dev_mailbox(hub)
    with hub.db.read() as conn:
        messages = list_messages(conn, to=to or None, limit=100)
    context = {"messages": messages, "to": to, "section": "mailbox"}
    return templates.TemplateResponse(request, "community/mailbox.html", context)


@router.get("/dev/mailbox/{message_id}", name="dev_mailbox_message")
def mailbox_message(request: Request, hub: HubDep, message_id: RowId) -> Response:
    _require_dev_mailbox(hub)
    with hub.db.read() as conn:
        stored = get_message(conn, message_id)
    if stored is None:
        return render_error(request, 404, "There is no such message in the mailbox.")
    parsed = stored.parsed()
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    context = {
        "message": stored,
        "sender": str(parsed.get("From", "")),
        "text": text.get_content() if text is not None else "",
        "has_html": html is not None,
        "section": "mailbox",
    }
    return templates.TemplateResponse(request, "community/mailbox_message.html", context)


@router.get("/dev/mailbox/{message_id}/html", name="dev_mailbox_html")
def mailbox_html(hub: HubDep, message_id: RowId) -> Response:
    """The HTML part alone, for a sandboxed iframe: its own CSP runs no script at all."""
    _require_dev_mailbox(hub)
    with hub.db.read() as conn:
        stored = get_message(conn, message_id)
    html = stored.parsed().get_body(preferencelist=("html",)) if stored else None
    if html is None:
        raise HTTPException(status_code=404)
    return HTMLResponse(
        html.get_content(),
        headers={"Content-Security-Policy": _MAILBOX_HTML_CSP, "Cache-Control": "no-store"},
    )
