"""Create feature_picks: why the feature policy put each paper on a day's feed (shown on /new).

Revision ID: m011
Revises: m010
"""

import sqlalchemy as sa
from alembic import op

revision = "m011"
down_revision = "m010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feature_picks",
        sa.Column("day", sa.Date, nullable=False, comment="the feed day it was put on"),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column(
            "policy", sa.String(32), nullable=False, comment="the policy that picked it: all, top:N"
        ),
        sa.Column(
            "rank", sa.Integer, nullable=False, comment="1 for the policy's first pick of the day"
        ),
        sa.Column(
            "score", sa.Float, nullable=True, comment="cosine to the members' interest, if ranked"
        ),
        sa.Column(
            "reason", sa.String(300), nullable=False, comment="why, in words, as /new shows it"
        ),
        sa.Column("picked_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("day", "paper_id", name="pk_feature_picks"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_feature_picks_paper_id_papers",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("feature_picks")
