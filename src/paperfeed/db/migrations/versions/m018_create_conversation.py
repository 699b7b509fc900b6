"""Create the conversation: replies (comments.parent_id, deleted_at), members' @handles
(users.handle, filled in for everyone from their address), mentions, notifications and their
mail ledger, notification settings, and reports on comments.

Revision ID: m018
Revises: m017
"""

import sqlalchemy as sa
from alembic import op

from paperfeed.handles import derive_handle

revision = "m018"
down_revision = "m017"
branch_labels = None
depends_on = None


def _user_fk(table: str, column: str = "user_id", ondelete: str = "CASCADE") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.user_id"], name=f"fk_{table}_{column}_users", ondelete=ondelete
    )


def _comment_fk(table: str) -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        ["comment_id"],
        ["comments.comment_id"],
        name=f"fk_{table}_comment_id_comments",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    # No batch mode: it would copy and DROP `users` and `comments`, and with SQLite's foreign
    # keys on (a pragma a transaction cannot turn off) dropping them deletes every row that
    # refers to them. SQLite adds a column in place, but a foreign key only with a copy.
    op.add_column(
        "users",
        sa.Column(
            "handle",
            sa.String(32),
            nullable=True,
            comment="@handle in mentions, lower case (m018); made at sign-up from the address",
        ),
    )
    op.create_index("ix_users_handle", "users", ["handle"], unique=True)
    _fill_handles()
    op.add_column(
        "comments",
        sa.Column(
            "parent_id",
            sa.Integer,
            nullable=True,
            comment="the comment this one replies to (m018; no foreign key, see db/schema.py)",
        ),
    )
    op.add_column(
        "comments",
        sa.Column(
            "deleted_at",
            sa.DateTime,
            nullable=True,
            comment="deleted by its author while it had replies: kept blank so they keep "
            "their place",
        ),
    )
    op.create_index("ix_comments_parent_id", "comments", ["parent_id"])
    op.create_table(
        "comment_mentions",
        sa.Column("comment_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column(
            "handle", sa.String(32), nullable=False, comment="the @handle as written in the comment"
        ),
        sa.PrimaryKeyConstraint("comment_id", "user_id", name="pk_comment_mentions"),
        _comment_fk("comment_mentions"),
        _user_fk("comment_mentions"),
    )
    op.create_index("ix_comment_mentions_user_id", "comment_mentions", ["user_id"])
    op.create_table(
        "notification_mails",
        sa.Column("mail_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column(
            "state",
            sa.String(16),
            nullable=False,
            comment="pending, claimed, sending, sent, deferred, failed, skipped, unknown",
        ),
        sa.Column("message_id", sa.String(255), nullable=False, comment="fixed at creation"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime, nullable=True, comment="deferred mails wait until then"
        ),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column(
            "lease_until", sa.DateTime, nullable=True, comment="a claim past it may be taken over"
        ),
        sa.Column("last_code", sa.Integer, nullable=True, comment="last SMTP reply code"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("mail_id", name="pk_notification_mails"),
        sa.UniqueConstraint("message_id", name="uq_notification_mails_message_id"),
        _user_fk("notification_mails"),
    )
    op.create_index("ix_notification_mails_user_id", "notification_mails", ["user_id"])
    op.create_index("ix_notification_mails_created_at", "notification_mails", ["created_at"])
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, comment="reply, mention or activity"),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("comment_id", sa.Integer, nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True, comment="who wrote the comment"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("read_at", sa.DateTime, nullable=True),
        sa.Column(
            "mail_id",
            sa.Integer,
            nullable=True,
            comment="the mail that carries it; None: not (yet) mailed",
        ),
        sa.PrimaryKeyConstraint("notification_id", name="pk_notifications"),
        sa.UniqueConstraint("user_id", "comment_id", name="uq_notifications_user_id_comment_id"),
        _user_fk("notifications"),
        _user_fk("notifications", "actor_id", "SET NULL"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_notifications_paper_id_papers",
            ondelete="CASCADE",
        ),
        _comment_fk("notifications"),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["notification_mails.mail_id"],
            name="fk_notifications_mail_id_notification_mails",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_notifications_user_id", "notifications", ["user_id"])
    op.create_index("ix_notifications_comment_id", "notifications", ["comment_id"])
    op.create_index("ix_notifications_mail_id", "notifications", ["mail_id"])
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column(
            "email", sa.Boolean, nullable=False, comment="mail notifications (off by default)"
        ),
        sa.Column(
            "email_since",
            sa.DateTime,
            nullable=True,
            comment="only notifications after it are mailed",
        ),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_notification_settings"),
        _user_fk("notification_settings"),
    )
    op.create_table(
        "comment_reports",
        sa.Column("report_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("comment_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column(
            "resolved_at",
            sa.DateTime,
            nullable=True,
            comment="None: open, in the curators' queue",
        ),
        sa.Column("resolved_by", sa.Integer, nullable=True),
        sa.Column("resolution", sa.String(16), nullable=True, comment="hidden or dismissed"),
        sa.PrimaryKeyConstraint("report_id", name="pk_comment_reports"),
        sa.UniqueConstraint("comment_id", "user_id", name="uq_comment_reports_comment_id_user_id"),
        _comment_fk("comment_reports"),
        _user_fk("comment_reports"),
        _user_fk("comment_reports", "resolved_by", "SET NULL"),
    )
    op.create_index("ix_comment_reports_comment_id", "comment_reports", ["comment_id"])
    op.create_index("ix_comment_reports_user_id", "comment_reports", ["user_id"])


def _fill_handles() -> None:
    """Give every member a handle from their address (collisions get 2, 3, …)."""
    conn = op.get_bind()
    users = sa.table(
        "users", sa.column("user_id", sa.Integer), sa.column("email"), sa.column("handle")
    )
    taken: set[str] = set()
    rows = conn.execute(sa.select(users.c.user_id, users.c.email).order_by(users.c.user_id))
    for user_id, email in list(rows):
        handle = derive_handle(email, taken.__contains__)
        taken.add(handle)
        conn.execute(sa.update(users).where(users.c.user_id == user_id).values(handle=handle))


def downgrade() -> None:
    op.drop_table("comment_reports")
    op.drop_table("notification_settings")
    op.drop_table("notifications")
    op.drop_table("notification_mails")
    op.drop_table("comment_mentions")
    op.drop_index("ix_comments_parent_id", "comments")
    op.drop_index("ix_users_handle", "users")
    # SQLite (3.35+) drops a column in place, as long as no index or key uses it.
    op.drop_column("comments", "deleted_at")
    op.drop_column("comments", "parent_id")
    op.drop_column("users", "handle")
