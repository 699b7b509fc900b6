"""Create the digests tables (subscribers, digest_issues, digest_ledger, digest_papers_sent).

Revision ID: m007
Revises: m006
"""

import sqlalchemy as sa
from alembic import op

revision = "m007"
down_revision = "m006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("subscriber_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False, comment="lower-cased address"),
        sa.Column(
            "user_id",
            sa.Integer,
            nullable=True,
            comment=(
                "the member who subscribed, if signed in (personal picks come from their upvotes)"
            ),
        ),
        sa.Column(
            "status",
            sa.String(16),
            nullable=False,
            comment="pending, active, unsubscribed, suppressed",
        ),
        sa.Column(
            "confirmed_at",
            sa.DateTime,
            nullable=True,
            comment="double opt-in done; None: never mailed",
        ),
        sa.Column("frequency", sa.String(8), nullable=False, comment="daily or weekly"),
        sa.Column(
            "weekday", sa.Integer, nullable=False, comment="weekly digests: 0 Monday .. 6 Sunday"
        ),
        sa.Column(
            "top_n", sa.Integer, nullable=False, comment="trending papers per digest (0: none)"
        ),
        sa.Column("categories", sa.JSON, nullable=False, comment="arXiv categories to match"),
        sa.Column("searches", sa.JSON, nullable=False, comment="saved search queries to match"),
        sa.Column(
            "personal", sa.Boolean, nullable=False, comment="add personal picks from upvotes"
        ),
        sa.Column("max_papers", sa.Integer, nullable=False, comment="most papers in one digest"),
        sa.Column(
            "send_empty", sa.Boolean, nullable=False, comment="mail even when nothing is new"
        ),
        sa.Column(
            "paused", sa.Boolean, nullable=False, comment="keep the subscription, send nothing"
        ),
        sa.Column("token", sa.String(64), nullable=False, comment="secret of manage links"),
        sa.Column(
            "confirm_hash", sa.String(64), nullable=True, comment="sha256 of the open confirm token"
        ),
        sa.Column("confirm_expires_at", sa.DateTime, nullable=True),
        sa.Column("hard_bounces", sa.Integer, nullable=False, comment="5xx refusals in a row"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("subscriber_id", name="pk_subscribers"),
        sa.UniqueConstraint("email", name="uq_subscribers_email"),
        sa.UniqueConstraint("token", name="uq_subscribers_token"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name="fk_subscribers_user_id_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_subscribers_user_id", "subscribers", ["user_id"])
    op.create_table(
        "digest_issues",
        sa.Column("issue_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False, comment="daily or weekly"),
        sa.Column(
            "period",
            sa.Date,
            nullable=False,
            comment="the day the digest is for (weekly: last day)",
        ),
        sa.Column(
            "status", sa.String(16), nullable=False, comment="building, sending, paused, done"
        ),
        sa.Column("paused_reason", sa.Text, nullable=True),
        sa.Column(
            "ratio_since", sa.DateTime, nullable=False, comment="failure ratio counts rows after it"
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("issue_id", name="pk_digest_issues"),
        sa.UniqueConstraint("kind", "period", name="uq_digest_issues_kind_period"),
    )
    op.create_table(
        "digest_ledger",
        sa.Column("ledger_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("issue_id", sa.Integer, nullable=False),
        sa.Column("subscriber_id", sa.Integer, nullable=False),
        sa.Column(
            "state",
            sa.String(16),
            nullable=False,
            comment="pending, claimed, sent, deferred, failed, suppressed, skipped",
        ),
        sa.Column("message_id", sa.String(255), nullable=False, comment="fixed at creation"),
        sa.Column(
            "paper_ids", sa.JSON, nullable=True, comment="the composed papers, fixed at first claim"
        ),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime, nullable=True, comment="deferred rows wait until then"
        ),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column(
            "lease_until", sa.DateTime, nullable=True, comment="a claim past it may be taken over"
        ),
        sa.Column("last_code", sa.Integer, nullable=True, comment="last SMTP reply code"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column(
            "finished_at", sa.DateTime, nullable=True, comment="when it became sent or failed"
        ),
        sa.PrimaryKeyConstraint("ledger_id", name="pk_digest_ledger"),
        sa.UniqueConstraint("message_id", name="uq_digest_ledger_message_id"),
        sa.UniqueConstraint(
            "issue_id", "subscriber_id", name="uq_digest_ledger_issue_id_subscriber_id"
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["digest_issues.issue_id"],
            name="fk_digest_ledger_issue_id_digest_issues",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.subscriber_id"],
            name="fk_digest_ledger_subscriber_id_subscribers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_digest_ledger_subscriber_id", "digest_ledger", ["subscriber_id"])
    op.create_index("ix_digest_ledger_issue_id_state", "digest_ledger", ["issue_id", "state"])
    op.create_table(
        "digest_papers_sent",
        sa.Column("subscriber_id", sa.Integer, nullable=False),
        sa.Column(
            "paper_id", sa.String(64), nullable=False, comment="no foreign key: survives deletes"
        ),
        sa.Column("issue_id", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("subscriber_id", "paper_id", name="pk_digest_papers_sent"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.subscriber_id"],
            name="fk_digest_papers_sent_subscriber_id_subscribers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["digest_issues.issue_id"],
            name="fk_digest_papers_sent_issue_id_digest_issues",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_digest_papers_sent_issue_id", "digest_papers_sent", ["issue_id"])


def downgrade() -> None:
    op.drop_table("digest_papers_sent")
    op.drop_table("digest_ledger")
    op.drop_table("digest_issues")
    op.drop_table("subscribers")
