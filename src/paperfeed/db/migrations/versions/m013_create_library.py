"""Create the imported library tables: a reader's library file and its entries.

Revision ID: m013
Revises: m012
"""

import sqlalchemy as sa
from alembic import op

revision = "m013"
down_revision = "m012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reader_libraries",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(300), nullable=False, comment="the file's name as given"),
        sa.Column("file_format", sa.String(16), nullable=False, comment="bibtex or csl-json"),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_reader_libraries"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name="fk_reader_libraries_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "library_entries",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, comment="1 for the file's first entry"),
        sa.Column(
            "entry_key", sa.String(200), nullable=False, comment="the citation key or CSL id"
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="matched, embedded or skipped"),
        sa.Column("matched_by", sa.String(16), nullable=True, comment="arxiv, doi or title"),
        sa.Column(
            "paper_id", sa.String(64), nullable=True, comment="the store's paper, if matched"
        ),
        sa.Column("note", sa.String(300), nullable=True, comment="why it was skipped"),
        sa.Column(
            "model_id", sa.String(200), nullable=True, comment="embedded: the embedder's model"
        ),
        sa.Column("dim", sa.Integer, nullable=True),
        sa.Column(
            "vector", sa.LargeBinary, nullable=True, comment="embedded: float32, little-endian"
        ),
        sa.PrimaryKeyConstraint("user_id", "position", name="pk_library_entries"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name="fk_library_entries_user_id_users",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("library_entries")
    op.drop_table("reader_libraries")
