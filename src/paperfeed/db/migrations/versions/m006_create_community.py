"""Create the community tables: site_keys, dev_mailbox, sign_in_links, sessions, comments,
collections, collection_items, api_tokens, rate_limits.

Revision ID: m006
Revises: m005
"""

import sqlalchemy as sa
from alembic import op

revision = "m006"
down_revision = "m005"
branch_labels = None
depends_on = None


def _user_fk(table: str, column: str = "user_id", ondelete: str = "CASCADE") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.user_id"], name=f"fk_{table}_{column}_users", ondelete=ondelete
    )


def _paper_fk(table: str) -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        ["paper_id"], ["papers.paper_id"], name=f"fk_{table}_paper_id_papers", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "site_keys",
        sa.Column("name", sa.String(64), nullable=False, comment="what the key signs, e.g. csrf"),
        sa.Column(
            "secret", sa.LargeBinary, nullable=False, comment="random bytes made on first use"
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_site_keys"),
    )
    op.create_table(
        "dev_mailbox",
        sa.Column("message_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column(
            "recipients",
            sa.Text,
            nullable=False,
            comment="To/Cc/Bcc addresses, lower case, comma",
        ),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("sent_at", sa.DateTime, nullable=False),
        sa.Column(
            "raw", sa.LargeBinary, nullable=False, comment="the whole message as sent (RFC 5322)"
        ),
        sa.PrimaryKeyConstraint("message_id", name="pk_dev_mailbox"),
    )
    op.create_index("ix_dev_mailbox_sent_at", "dev_mailbox", ["sent_at"])
    op.create_table(
        "sign_in_links",
        sa.Column(
            "token_hash", sa.String(64), nullable=False, comment="SHA-256 of the emailed token"
        ),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column(
            "browser_hash", sa.String(64), nullable=False, comment="SHA-256 of the asking browser"
        ),
        sa.Column("next_path", sa.Text, nullable=False, server_default="/"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("used_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sign_in_links"),
    )
    op.create_index("ix_sign_in_links_email", "sign_in_links", ["email"])
    op.create_index("ix_sign_in_links_expires_at", "sign_in_links", ["expires_at"])
    op.create_table(
        "sessions",
        sa.Column(
            "session_hash", sa.String(64), nullable=False, comment="SHA-256 of the cookie value"
        ),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("session_hash", name="pk_sessions"),
        _user_fk("sessions"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_table(
        "comments",
        sa.Column("comment_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column(
            "body", sa.Text, nullable=False, comment="plain text; links are made at render time"
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("edited_at", sa.DateTime, nullable=True),
        sa.Column(
            "hidden_at", sa.DateTime, nullable=True, comment="set by a curator; None: visible"
        ),
        sa.Column("hidden_by", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("comment_id", name="pk_comments"),
        _paper_fk("comments"),
        _user_fk("comments"),
        _user_fk("comments", "hidden_by", "SET NULL"),
    )
    op.create_index("ix_comments_paper_id", "comments", ["paper_id"])
    op.create_index("ix_comments_user_id", "comments", ["user_id"])
    op.create_table(
        "collections",
        sa.Column("collection_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("is_public", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("collection_id", name="pk_collections"),
        _user_fk("collections"),
        sa.UniqueConstraint("user_id", "name", name="uq_collections_user_id_name"),
    )
    op.create_index("ix_collections_user_id", "collections", ["user_id"])
    op.create_table(
        "collection_items",
        sa.Column("collection_id", sa.Integer, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("collection_id", "paper_id", name="pk_collection_items"),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.collection_id"],
            name="fk_collection_items_collection_id_collections",
            ondelete="CASCADE",
        ),
        _paper_fk("collection_items"),
    )
    op.create_index("ix_collection_items_paper_id", "collection_items", ["paper_id"])
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, comment="SHA-256 of the token"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
        _user_fk("api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "rate_limits",
        sa.Column(
            "bucket",
            sa.String(200),
            nullable=False,
            comment="action and who, e.g. comment:u:7",
        ),
        sa.Column("window_start", sa.DateTime, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("bucket", name="pk_rate_limits"),
    )
    op.create_index("ix_rate_limits_window_start", "rate_limits", ["window_start"])


def downgrade() -> None:
    for table in (
        "rate_limits",
        "api_tokens",
        "collection_items",
        "collections",
        "comments",
        "sessions",
        "sign_in_links",
        "dev_mailbox",
        "site_keys",
    ):
        op.drop_table(table)
