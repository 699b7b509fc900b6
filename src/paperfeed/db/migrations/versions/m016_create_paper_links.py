"""Create paper_links: code repositories, Hugging Face pages and project pages of papers,
with GitHub stars.

Revision ID: m016
Revises: m015
"""

import sqlalchemy as sa
from alembic import op

revision = "m016"
down_revision = "m015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_links",
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(500), nullable=False, comment="canonical: a repository's root"),
        sa.Column(
            "kind",
            sa.String(16),
            nullable=False,
            comment="github, gitlab, hf_model, … or project",
        ),
        sa.Column(
            "source",
            sa.String(16),
            nullable=False,
            comment="found (abstract/comment), member, hf",
        ),
        sa.Column(
            "position",
            sa.Integer,
            nullable=False,
            comment="the order it was found or given in",
        ),
        sa.Column("added_by", sa.Integer, nullable=True, comment="the member who set it"),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.Column("stars", sa.Integer, nullable=True, comment="GitHub stars at stars_checked_at"),
        sa.Column("stars_etag", sa.String(200), nullable=True, comment="for conditional requests"),
        sa.Column("stars_checked_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("paper_id", "url", name="pk_paper_links"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_paper_links_paper_id_papers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.user_id"],
            name="fk_paper_links_added_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_paper_links_url", "paper_links", ["url"])


def downgrade() -> None:
    op.drop_index("ix_paper_links_url", table_name="paper_links")
    op.drop_table("paper_links")
