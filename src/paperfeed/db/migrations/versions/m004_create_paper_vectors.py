"""Create paper_vectors: one embedding per paper, with the contract it was made under.

Revision ID: m004
Revises: m003
"""

import sqlalchemy as sa
from alembic import op

revision = "m004"
down_revision = "m003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_vectors",
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("revision", sa.String(100), nullable=False),
        sa.Column("input_version", sa.Integer, nullable=False),
        sa.Column(
            "text_hash", sa.String(32), nullable=False, comment="hash of the embedded input text"
        ),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False, comment="float32, little-endian"),
        sa.Column("embedded_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("paper_id", name="pk_paper_vectors"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_paper_vectors_paper_id_papers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_paper_vectors_embedded_at", "paper_vectors", ["embedded_at"])
    op.create_index("ix_papers_modified_at", "papers", ["modified_at"])


def downgrade() -> None:
    op.drop_index("ix_papers_modified_at", "papers")
    op.drop_table("paper_vectors")
