"""`paperfeed trending`: the trending list of a window, as the web page and the API show it."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from paperfeed.cli._console import make_hub, out
from paperfeed.community.trending import TrendingList, trending
from paperfeed.db.trending import TrendingPaper
from paperfeed.trending import half_life


class WindowName(StrEnum):
    day = "day"
    week = "week"
    month = "month"


def register(app: typer.Typer) -> None:
    """Add the trending command to the main app."""
    app.command("trending")(trending_command)


def trending_command(
    window: Annotated[
        WindowName, typer.Option(help="day, week or month (docs/trending.md).")
    ] = WindowName.week,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Most papers to show.")] = 30,
) -> None:
    """Show the papers trending today, this week or this month (the web's list and "now")."""
    hub = make_hub()
    try:
        found = trending(db=hub.db, window=window.value, limit=limit)
    finally:
        hub.close()
    if as_json:
        print(json.dumps(_list_json(found), ensure_ascii=False))
        return
    span = found.span
    anchored = " (the newest vote: no votes since)" if span.anchored else ""
    out.print(
        f"Trending this {span.window} as of {span.now:%Y-%m-%d %H:%M} UTC{anchored}: "
        f"{found.total:,} papers, formula {span.formula_version}"
        + (
            f" ({found.own:,} with votes in the window, then earlier ones from the window "
            f"ending {found.earlier:%Y-%m-%d %H:%M} UTC back)"
            if found.earlier is not None
            else ""
        ),
        highlight=False,
    )
    if not found.papers:
        out.print("no papers with votes in this window")
        return
    for rank, item in enumerate(found.papers, start=1):
        paper = item.paper
        out.print(f"[bold]{rank:>3}. {paper.title}[/]", markup=True, highlight=False)
        out.print(
            f"     {paper.paper_id}  score {item.score:.2f}  "
            f"{item.window_upvotes} votes in the window, {item.upvotes} in all",
            markup=False,
            highlight=False,
        )


def _list_json(found: TrendingList) -> dict[str, Any]:
    span = found.span
    return {
        "window": span.window,
        "formulaVersion": span.formula_version,
        "halfLifeHours": half_life(span.window).total_seconds() / 3600,
        "now": span.now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),  # as /api/trending writes it
        "anchored": span.anchored,
        "total": found.total,
        "windowTotal": found.own,  # the rest top a short list up (docs/trending.md)
        "earlier": found.earlier.strftime("%Y-%m-%dT%H:%M:%S.000Z") if found.earlier else None,
        "papers": [_paper_json(rank, t) for rank, t in enumerate(found.papers, start=1)],
    }


def _paper_json(rank: int, item: TrendingPaper) -> dict[str, Any]:
    return {
        "rank": rank,
        "id": item.paper.paper_id,
        "title": item.paper.title,
        "score": round(item.score, 6),
        "windowUpvotes": item.window_upvotes,
        "upvotes": item.upvotes,
    }
