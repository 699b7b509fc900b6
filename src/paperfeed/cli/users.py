"""`paperfeed users list|role`: see who has signed up and give roles (the first admin too)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from paperfeed.addresses import InvalidAddress
from paperfeed.cli._console import EXIT_NOT_FOUND, err, make_hub, out
from paperfeed.community.accounts import NoSuchUser, Role, list_users, set_role_by_email

app = typer.Typer(
    help="Users and roles: member, curator (features papers, moderates), admin (gives roles).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("list")
def list_command() -> None:
    """List every user with their role."""
    hub = make_hub()
    try:
        users = list_users(db=hub.db)
    finally:
        hub.close()
    if not users:
        err.print("No users yet: readers appear here after they first sign in.")
        return
    table = Table("id", "email", "name", "role", "since")
    for user in users:
        table.add_row(
            str(user.user_id),
            user.email,
            user.display_name or "",
            user.role.value,
            user.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


@app.command("role")
def role_command(
    email: Annotated[str, typer.Argument(help="The user's email address.")],
    role: Annotated[Role, typer.Argument(help="member, curator or admin.")],
    create: Annotated[
        bool, typer.Option(help="Create the user if they have not signed in yet.")
    ] = False,
) -> None:
    """Give the user EMAIL the role ROLE (e.g. make the first admin)."""
    hub = make_hub()
    try:
        user = set_role_by_email(db=hub.db, email=email, role=role, create=create)
    except InvalidAddress as exc:
        err.print(f"{email!r}: {exc}")
        raise typer.Exit(2) from None
    except NoSuchUser:
        err.print(
            f"No user {email}: they appear after their first sign-in "
            "(or pass --create to add them now)."
        )
        raise typer.Exit(EXIT_NOT_FOUND) from None
    finally:
        hub.close()
    out.print(f"{user.email} is now {role.value}.")
