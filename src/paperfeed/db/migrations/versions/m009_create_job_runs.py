"""Create the daily loop's tables: job runs per period, the day's listing, curators' unfeatures.

Revision ID: m009
Revises: m008
"""

import sqlalchemy as sa
from alembic import op

revision = "m009"
down_revision = "m008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(32), nullable=False, comment="fetch, embed, feature, digest"),
        sa.Column("period", sa.String(32), nullable=False, comment="the day it is for, YYYY-MM-DD"),
        sa.Column("state", sa.String(16), nullable=False, comment="running, done, retry, failed"),
        sa.Column("attempt", sa.Integer, nullable=False, comment="runs so far (1 on the first)"),
        sa.Column("started_at", sa.DateTime, nullable=False, comment="start of the latest attempt"),
        sa.Column("finished_at", sa.DateTime, nullable=True, comment="end of the latest attempt"),
        sa.Column(
            "next_attempt_at",
            sa.DateTime,
            nullable=True,
            comment="retry or failed: not before",
        ),
        sa.Column("counts", sa.JSON, nullable=True, comment="what the run did, e.g. papers stored"),
        sa.Column("error", sa.Text, nullable=True, comment="why the latest attempt did not finish"),
        sa.PrimaryKeyConstraint("job", "period", name="pk_job_runs"),
    )
    op.create_table(
        "announcements",
        sa.Column("day", sa.Date, nullable=False, comment="the arXiv listing day"),
        sa.Column("category", sa.String(32), nullable=False, comment="the listing it appeared in"),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, comment="new, cross-list or replacement"),
        sa.Column("version", sa.Integer, nullable=True, comment="the version announced"),
        sa.PrimaryKeyConstraint("day", "category", "paper_id", name="pk_announcements"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_announcements_paper_id_papers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_announcements_paper_id", "announcements", ["paper_id"])
    op.create_table(
        "feed_vetoes",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column(
            "user_id", sa.Integer, nullable=True, comment="the curator who took it off the feed"
        ),
        sa.Column("vetoed_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("day", "paper_id", name="pk_feed_vetoes"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_feed_vetoes_paper_id_papers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name="fk_feed_vetoes_user_id_users", ondelete="SET NULL"
        ),
    )


def downgrade() -> None:
    op.drop_table("feed_vetoes")
    op.drop_table("announcements")
    op.drop_table("job_runs")
