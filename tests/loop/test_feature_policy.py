"""The `top:N` feature policy: curators' picks of the day count toward N, and each of the
policy's picks is recorded with its reason, which curators see on /new."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from paperfeed.community.accounts import Role
from paperfeed.community.featuring import feature_paper
from paperfeed.db.announcements import announced_on, featured_on
from paperfeed.db.feature_picks import picks_on
from paperfeed.db.users import get_or_create_user, set_role
from paperfeed.hub import Hub
from paperfeed.loop.feature import NEW_KINDS
from paperfeed.loop.jobs import embed_new, feature_day, fetch_day
from paperfeed.web.app import create_app
from tests.ingest.conftest import FakeClock
from tests.loop.conftest import ANNOUNCED, TUESDAY
from tests.web.community_helpers import sign_in


def _fetched(make_hub: Any, http_clock: FakeClock, policy: str) -> Hub:
    hub: Hub = make_hub(auto_feature=policy)
    fetch_day(hub, day=TUESDAY, http_clock=http_clock)
    embed_new(hub)
    return hub


def _new_papers(hub: Hub) -> list[str]:
    with hub.db.read() as conn:
        return sorted({a.paper_id for a in announced_on(conn, TUESDAY, kinds=NEW_KINDS)})


def _curator(hub: Hub) -> int:
    with hub.db.write() as conn:
        user = get_or_create_user(conn, "cur@example.org")
        set_role(conn, user.user_id, Role.CURATOR)
    return user.user_id


def test_curators_picks_of_the_day_count_toward_n(make_hub: Any, http_clock: FakeClock) -> None:
    hub = _fetched(make_hub, http_clock, "top:5")
    curator = _curator(hub)
    chosen = _new_papers(hub)[-2:]
    for paper_id in chosen:
        feature_paper(db=hub.db, paper_id=paper_id, day=TUESDAY, user_id=curator)

    counts = feature_day(hub, day=TUESDAY, now=ANNOUNCED)

    assert counts["featured"] == 3  # 5 minus the curator's 2
    assert counts["on_feed"] == 5
    with hub.db.read() as conn:
        on_feed = featured_on(conn, TUESDAY)
        picks = picks_on(conn, TUESDAY)
    assert len(on_feed) == 5 and set(chosen) <= on_feed
    assert set(picks) == on_feed - set(chosen)
    assert sorted(p.rank for p in picks.values()) == [1, 2, 3]
    assert {p.policy for p in picks.values()} == {"top:5"}
    assert all(p.reason == "no member interest yet: listing order" for p in picks.values())
    # Run again (a worker killed after its commit): the day is full, nothing more is picked.
    assert feature_day(hub, day=TUESDAY, now=ANNOUNCED)["featured"] == 0
    with hub.db.read() as conn:
        assert featured_on(conn, TUESDAY) == on_feed


def test_a_day_the_curators_filled_gets_no_policy_picks(
    make_hub: Any, http_clock: FakeClock
) -> None:
    hub = _fetched(make_hub, http_clock, "top:3")
    curator = _curator(hub)
    for paper_id in _new_papers(hub)[:4]:
        feature_paper(db=hub.db, paper_id=paper_id, day=TUESDAY, user_id=curator)
    assert feature_day(hub, day=TUESDAY, now=ANNOUNCED)["featured"] == 0
    with hub.db.read() as conn:
        assert len(featured_on(conn, TUESDAY)) == 4
        assert picks_on(conn, TUESDAY) == {}


def test_new_shows_why_each_paper_is_on_the_feed(make_hub: Any, http_clock: FakeClock) -> None:
    hub = _fetched(make_hub, http_clock, "top:2")
    curator = _curator(hub)
    mine = _new_papers(hub)[-1]
    feature_paper(db=hub.db, paper_id=mine, day=TUESDAY, user_id=curator)
    feature_day(hub, day=TUESDAY, now=ANNOUNCED)
    with hub.db.read() as conn:
        (picked,) = picks_on(conn, TUESDAY).values()

    client = TestClient(create_app(hub), base_url=str(hub.settings.public_url))
    sign_in(client, hub, "cur@example.org")
    page = client.get("/new", params={"day": TUESDAY.isoformat()}).text

    row = page[page.index(f'id="paper-{picked.paper_id}"') :]
    row = row[: row.index("</li>")]
    assert "Picked by the top:2 policy (#1 of the day): no member interest yet" in row
    mine_row = page[page.index(f'id="paper-{mine}"') :]
    assert "Featured by cur" in mine_row[: mine_row.index("</li>")]
