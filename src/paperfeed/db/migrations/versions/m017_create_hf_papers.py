"""Create hf_papers: what Hugging Face's daily papers say of a paper (submitter, AI summary,
AI keywords).

Revision ID: m017
Revises: m016
"""

import sqlalchemy as sa
from alembic import op

revision = "m017"
down_revision = "m016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hf_papers",
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column(
            "submitter", sa.String(100), nullable=True, comment="who submitted it on Hugging Face"
        ),
        sa.Column("ai_summary", sa.Text, nullable=True),
        sa.Column("ai_keywords", sa.JSON, nullable=True, comment="a list of keywords"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("paper_id", name="pk_hf_papers"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_hf_papers_paper_id_papers",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("hf_papers")
