"""Digest pages: subscribe (form and JSON API), confirm, preferences, preview, unsubscribe.

Preferences and unsubscribe are reached through the reader's secret link (no sign-in needed).
`POST /digest/unsubscribe/{token}` is the RFC 8058 one-click target: mail clients POST it
without cookies, so it is exempt from the CSRF check (web/csrf.py); a GET only shows a button.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from paperfeed.addresses import is_address
from paperfeed.db.digests import (
    Preferences,
    Subscriber,
    get_subscriber,
)
from paperfeed.digest.policy import SystemClock
from paperfeed.digest.service import preview_plan
from paperfeed.digest.subscribe import (
    CONFIRM_HOURS,
    SubscribeResult,
    TooManyConfirmations,
    confirm,
    request_subscription,
)
from paperfeed.digest.subscribers import choose_preferences, stop_digests
from paperfeed.hub import Hub
from paperfeed.mail import MailError
from paperfeed.web import ratelimit
from paperfeed.web.auth import OptionalUser
from paperfeed.web.deps import HubDep
from paperfeed.web.rendering import render_error, templates

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
api_router = APIRouter(prefix="/api/digest", tags=["digest"])

MAX_EMAIL = 320
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SUBSCRIBE_PER_CLIENT = ratelimit.Limit("digest-subscribe:ip", 20, dt.timedelta(minutes=60))
# The preview of an HTML digest is a mail, with inline styles: served on its own, sandboxed.
PREVIEW_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)


def _looks_like_email(address: str) -> bool:
    return is_address(address)


def _split(text: str, *, most: int = 20) -> tuple[str, ...]:
    """Categories or searches typed one a line (or comma-separated categories)."""
    items = [part.strip() for line in text.splitlines() for part in line.split(",")]
    return tuple(dict.fromkeys(i[:200] for i in items if i))[:most]


def _searches(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.strip()[:200] for s in text.splitlines() if s.strip()))[:10]


def _preferences(
    *,
    frequency: str,
    weekday: int,
    top_n: int,
    max_papers: int,
    categories: str,
    searches: str,
    personal: bool,
    send_empty: bool = False,
    paused: bool = False,
) -> Preferences:
    try:
        return Preferences(
            frequency=frequency,
            weekday=weekday,
            top_n=top_n,
            max_papers=max_papers,
            categories=_split(categories),
            searches=_searches(searches),
            personal=personal,
            send_empty=send_empty,
            paused=paused,
        )
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


def preference_form(
    frequency: Annotated[Literal["daily", "weekly"], Form()] = "daily",
    weekday: Annotated[int, Form(ge=0, le=6)] = 0,
    top_n: Annotated[int, Form(ge=0, le=50)] = 10,
    max_papers: Annotated[int, Form(ge=1, le=100)] = 20,
    categories: Annotated[str, Form(max_length=2000)] = "",
    searches: Annotated[str, Form(max_length=2000)] = "",
    personal: Annotated[bool, Form()] = False,
    send_empty: Annotated[bool, Form()] = False,
    paused: Annotated[bool, Form()] = False,
) -> Preferences:
    """The preference fields shared by the subscribe form and the preferences page."""
    return _preferences(
        frequency=frequency,
        weekday=weekday,
        top_n=top_n,
        max_papers=max_papers,
        categories=categories,
        searches=searches,
        personal=personal,
        send_empty=send_empty,
        paused=paused,
    )


PreferenceForm = Annotated[Preferences, Depends(preference_form)]


def _by_token(hub: Hub, token: str) -> Subscriber:
    if len(token) > 100:
        raise HTTPException(status_code=404, detail="This link is not valid.")
    with hub.db.read() as conn:
        subscriber = get_subscriber(conn, token=token)
    if subscriber is None:
        raise HTTPException(status_code=404, detail="This link is not valid (any more).")
    return subscriber


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    context = {"section": "digest", "weekdays": WEEKDAYS, **context}
    return templates.TemplateResponse(request, f"digest/{name}", context, status_code=status_code)


@router.get("/digest", name="digest_subscribe")
def subscribe_page(request: Request, hub: HubDep, user: OptionalUser) -> Response:
    return _page(
        request,
        "subscribe.html",
        {
            "email": user.email if user else "",
            "signed_in": user is not None,
            "dev_mailbox": hub.settings.smtp_host is None,
            "error": None,
        },
    )


@router.post("/digest/subscribe")
def subscribe_form(
    request: Request,
    hub: HubDep,
    user: OptionalUser,
    prefs: PreferenceForm,
    email: Annotated[str, Form(max_length=MAX_EMAIL * 2)] = "",
) -> Response:
    """Subscribe from the web form: confirmed at once for the signed-in owner, else a link."""
    if not _looks_like_email(email):
        context = {
            "email": email,
            "signed_in": user is not None,
            "dev_mailbox": hub.settings.smtp_host is None,
            "error": "Enter an email address, like name@example.org.",
        }
        return _page(request, "subscribe.html", context, status_code=422)
    ratelimit.enforce(hub, SUBSCRIBE_PER_CLIENT, ratelimit.client_key(request))
    result = _subscribe(
        hub,
        email=email,
        prefs=prefs,
        user_id=user.user_id if user else None,
        user_email=user.email if user else None,
    )
    if result.outcome == "confirmed":
        return RedirectResponse(f"/digest/manage/{result.subscriber.token}?saved=1", 303)
    # The same answer whether the address was new, pending or subscribed already.
    context = {
        "email": result.subscriber.email,
        "hours": CONFIRM_HOURS,
        "dev_mailbox": hub.settings.smtp_host is None,
    }
    return _page(request, "sent.html", context)


def _subscribe(
    hub: Hub, *, email: str, prefs: Preferences, user_id: int | None, user_email: str | None
) -> SubscribeResult:
    try:
        return request_subscription(
            db=hub.db,
            mailer=hub.mailer,
            settings=hub.settings,
            email=email,
            preferences=prefs,
            now=SystemClock().now(),
            user_id=user_id,
            user_email=user_email,
        )
    except TooManyConfirmations:
        raise HTTPException(
            status_code=429,
            detail="We already sent confirmation mails to this address today; "
            "look for them, or try again tomorrow.",
            headers={"Retry-After": "86400"},
        ) from None
    except MailError as exc:
        raise HTTPException(status_code=503, detail=f"Mail could not be sent: {exc}") from None


@router.get("/digest/confirm")
def confirm_page(request: Request, token: str = "") -> Response:
    """Show one button: opening the link changes nothing (mail scanners open links)."""
    return _page(request, "confirm.html", {"token": token[:200]})


@router.post("/digest/confirm")
def confirm_post(
    request: Request, hub: HubDep, token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    subscriber = confirm(db=hub.db, token=token, now=SystemClock().now())
    if subscriber is None:
        return render_error(
            request,
            400,
            "This confirmation link was used already or has expired. "
            "Subscribe again for a new one.",
        )
    return RedirectResponse(f"/digest/manage/{subscriber.token}?confirmed=1", 303)


@router.get("/digest/manage/{token}")
def manage_page(request: Request, hub: HubDep, token: str) -> Response:
    subscriber = _by_token(hub, token)
    context = {
        "subscriber": subscriber,
        "token": token,
        "saved": request.query_params.get("saved") == "1",
        "confirmed": request.query_params.get("confirmed") == "1",
    }
    return _page(request, "manage.html", context)


@router.post("/digest/manage/{token}")
def manage_post(hub: HubDep, token: str, prefs: PreferenceForm) -> Response:
    subscriber = _by_token(hub, token)
    choose_preferences(
        db=hub.db,
        subscriber_id=subscriber.subscriber_id,
        preferences=prefs,
        now=SystemClock().now(),
    )
    return RedirectResponse(f"/digest/manage/{token}?saved=1", 303)


@router.get("/digest/unsubscribe/{token}")
def unsubscribe_page(request: Request, hub: HubDep, token: str) -> Response:
    """A GET only asks: link checkers and prefetchers must not unsubscribe anyone."""
    subscriber = _by_token(hub, token)
    return _page(
        request, "unsubscribe.html", {"subscriber": subscriber, "token": token, "done": False}
    )


@router.post("/digest/unsubscribe/{token}")
def unsubscribe_post(request: Request, hub: HubDep, token: str) -> Response:
    """RFC 8058 one-click (body `List-Unsubscribe=One-Click`, no cookies) or the page's button."""
    subscriber = _by_token(hub, token)
    stop_digests(db=hub.db, subscriber_id=subscriber.subscriber_id, now=SystemClock().now())
    return _page(
        request, "unsubscribe.html", {"subscriber": subscriber, "token": token, "done": True}
    )


def _preview_subscriber(hub: Hub, token: str | None) -> Subscriber:
    if token:
        return _by_token(hub, token)
    # No link: what a new subscriber's digest looks like (default preferences).
    return Subscriber(
        subscriber_id=0,
        email="you@example.org",
        status="active",
        frequency="daily",
        token="preview",
    )


@router.get("/digest/preview")
def preview_page(request: Request, hub: HubDep, token: str | None = None) -> Response:
    """The digest a reader would get for the newest day; rendered, never sent."""
    subscriber = _preview_subscriber(hub, token)
    plan, _raw = preview_plan(hub, subscriber)
    context = {"plan": plan, "token": token or "", "subscriber": subscriber}
    return _page(request, "preview.html", context)


@router.get("/digest/preview/message.html")
def preview_message(hub: HubDep, token: str | None = None) -> Response:
    """The HTML part of the preview, for the sandboxed frame of /digest/preview."""
    _plan, raw = preview_plan(hub, _preview_subscriber(hub, token))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    part = message.get_body(("html",))
    assert part is not None
    return HTMLResponse(part.get_content(), headers={"Content-Security-Policy": PREVIEW_CSP})


class SubscriberCreate(BaseModel):
    """A subscription request: a confirmation mail goes to `email`."""

    email: str = Field(max_length=MAX_EMAIL)
    frequency: Literal["daily", "weekly"] = "daily"
    weekday: int = Field(default=0, ge=0, le=6)
    top_n: int = Field(default=10, ge=0, le=50)
    max_papers: int = Field(default=20, ge=1, le=100)
    categories: list[str] = Field(default_factory=list, max_length=20)
    searches: list[str] = Field(default_factory=list, max_length=10)


class SubscriptionPublic(BaseModel):
    """What happened: `confirmation_sent` (check the inbox) for every new or pending address."""

    status: Literal["confirmation_sent"]


@api_router.post("/subscribe", status_code=202, response_model=SubscriptionPublic)
def api_subscribe(request: Request, hub: HubDep, body: SubscriberCreate) -> SubscriptionPublic:
    """Ask for digests: a confirmation link is mailed (double opt-in); 429 past the daily limit."""
    if not _looks_like_email(body.email):
        raise HTTPException(status_code=422, detail="email is not an email address")
    ratelimit.enforce(hub, SUBSCRIBE_PER_CLIENT, ratelimit.client_key(request))
    prefs = _preferences(
        frequency=body.frequency,
        weekday=body.weekday,
        top_n=body.top_n,
        max_papers=body.max_papers,
        categories="\n".join(body.categories),
        searches="\n".join(body.searches),
        personal=False,
    )
    _subscribe(hub, email=body.email, prefs=prefs, user_id=None, user_email=None)
    # The same answer for every address: the API does not tell who is subscribed.
    return SubscriptionPublic(status="confirmation_sent")
