"""community/accounts.py: sign-in links, sessions, API tokens and roles on a real store."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from paperfeed.addresses import InvalidAddress
from paperfeed.community import accounts
from paperfeed.community.limits import RateLimited
from paperfeed.db import Database
from paperfeed.db.schema import rate_limits, sign_in_links, users
from paperfeed.db.users import Role, User

BROWSER = "b" * 43


def _ask(db: Database, email: str, *, client: str = "127.0.0.1") -> accounts.SignInRequest:
    return accounts.ask_for_sign_in(
        db=db, email=email, client=client, browser_id=BROWSER, next_path="/"
    )


def _count(db: Database, table: object) -> int:
    with db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def test_sign_in_makes_the_user_once_and_starts_a_session(db: Database) -> None:
    asked = _ask(db, "  Ada@Example.ORG ")
    assert asked.address == "ada@example.org"
    done = accounts.sign_in(db=db, token=asked.token, browser_id=BROWSER)
    assert done.user.email == "ada@example.org" and done.next_path == "/"
    user = accounts.session_user(db=db, session_token=done.session_token)
    assert user is not None and user.user_id == done.user.user_id
    with pytest.raises(accounts.LinkUsed):
        accounts.sign_in(db=db, token=asked.token, browser_id=BROWSER)
    again = accounts.sign_in(db=db, token=_ask(db, "ada@example.org").token, browser_id=BROWSER)
    assert again.user.user_id == done.user.user_id  # the same account, not a second one
    accounts.sign_out(db=db, session_token=done.session_token)
    assert accounts.session_user(db=db, session_token=done.session_token) is None


def test_a_link_is_refused_in_another_browser_and_after_ten_minutes(db: Database) -> None:
    asked = _ask(db, "ada@example.org")
    with pytest.raises(accounts.WrongBrowser):
        accounts.check_sign_in_link(db=db, token=asked.token, browser_id="c" * 43)
    with pytest.raises(accounts.LinkNotValid):
        accounts.check_sign_in_link(db=db, token="x" * 40, browser_id=BROWSER)
    with db.write() as conn:
        past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1)
        conn.execute(update(sign_in_links).values(expires_at=past))
    with pytest.raises(accounts.LinkExpired):
        accounts.sign_in(db=db, token=asked.token, browser_id=BROWSER)


@pytest.mark.parametrize(
    "address",
    ["a@x.org,b@y.org", "victim@x.org;1", "ada@example.org\x00", "ada@example.org\r\nbcc:e@x.org"],
)
def test_what_is_not_one_address_is_refused_before_anything_is_stored(
    db: Database, address: str
) -> None:
    with pytest.raises(InvalidAddress):
        _ask(db, address)
    assert _count(db, sign_in_links) == 0
    assert _count(db, rate_limits) == 0  # not even counted


def test_the_per_address_limit_is_keyed_by_the_normal_form(db: Database) -> None:
    for n in range(5):
        _ask(db, "victim@example.org", client=f"10.0.0.{n}")
    for suffix in (";1", ";2", ",eve@example.org"):
        with pytest.raises(InvalidAddress):
            _ask(db, "victim@example.org" + suffix, client="10.0.1.1")
    with pytest.raises(RateLimited) as refused:
        _ask(db, "VICTIM@example.org", client="10.0.1.2")
    assert refused.value.retry_after > 0
    assert _count(db, sign_in_links) == 5


def test_roles_by_email_refuse_bad_addresses_and_unknown_users(db: Database) -> None:
    with pytest.raises(InvalidAddress):
        accounts.set_role_by_email(db=db, email="a@x.org;1", role=Role.ADMIN, create=True)
    with pytest.raises(accounts.NoSuchUser):
        accounts.set_role_by_email(db=db, email="ada@example.org", role=Role.ADMIN)
    assert _count(db, users) == 0
    accounts.set_role_by_email(db=db, email="Ada@Example.org", role=Role.ADMIN, create=True)
    [ada] = accounts.list_users(db=db)
    assert ada.email == "ada@example.org" and ada.role is Role.ADMIN
    accounts.change_role(db=db, user_id=ada.user_id, role=Role.CURATOR)
    assert accounts.list_users(db=db)[0].role is Role.CURATOR
    with pytest.raises(accounts.NoSuchUser):
        accounts.change_role(db=db, user_id=ada.user_id + 1, role=Role.ADMIN)


def test_api_tokens_are_shown_once_and_revoked(db: Database, ada: User) -> None:
    token = accounts.create_api_token(db=db, user_id=ada.user_id, name="script")
    owner = accounts.api_token_user(db=db, token=token)
    assert owner is not None and owner.user_id == ada.user_id
    [listed] = accounts.list_api_tokens(db=db, user_id=ada.user_id)
    assert listed.name == "script" and listed.last_used_at is not None
    assert accounts.revoke_api_token(db=db, user_id=ada.user_id, token_id=listed.token_id)
    assert accounts.api_token_user(db=db, token=token) is None


def test_the_site_key_is_made_once(db: Database) -> None:
    first = accounts.site_key(db=db, name="csrf")
    assert len(first) == 32 and accounts.site_key(db=db, name="csrf") == first
