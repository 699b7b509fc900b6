"""Table definitions of the store; the Alembic migrations create exactly these tables."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

papers = Table(
    "papers",
    metadata,
    Column("paper_id", String(64), primary_key=True, comment="arXiv id without version"),
    Column("version", Integer, nullable=True, comment="latest version seen (None: unknown)"),
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False),
    Column("authors", JSON, nullable=True, comment="ordered list of author names"),
    Column("categories", JSON, nullable=True, comment="ordered list, primary first"),
    Column("primary_category", String(32), nullable=True, index=True),
    Column("submitted", DateTime, nullable=True, comment="v1 submission time, UTC"),
    Column("updated", DateTime, nullable=True, comment="latest version time, UTC"),
    Column("announced", Date, nullable=True, index=True, comment="first announcement day"),
    Column("comment", Text, nullable=True),
    Column("journal_ref", Text, nullable=True),
    Column("doi", String(255), nullable=True),
    Column("license", String(255), nullable=True),
    Column("keywords", JSON, nullable=True, comment="subject keywords given by the source"),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("content_hash", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("modified_at", DateTime, nullable=False, index=True),
)

users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(200), nullable=True),
    Column("role", String(16), nullable=False, server_default="member"),
    Column("created_at", DateTime, nullable=False),
)

feed_entries = Table(
    "feed_entries",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False, index=True),
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("source", String(32), nullable=False, comment="sample, snapshot, hf-daily, curator…"),
    Column(
        "featured_by",
        Integer,
        ForeignKey("users.user_id", ondelete="SET NULL"),
        nullable=True,
        comment="the curator or member who featured it; None for imports",
    ),
    Column("upvotes", Integer, nullable=False, server_default="0", comment="imported count"),
    Column("featured_at", DateTime, nullable=False),
    UniqueConstraint("day", "paper_id", name="uq_feed_entries_day_paper_id"),
)

ingest_state = Table(
    "ingest_state",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("key", String(255), primary_key=True, comment="e.g. the query or set it tracks"),
    Column("value", JSON, nullable=False, comment="high-water mark, resumption token…"),
    Column("updated_at", DateTime, nullable=False),
)

paper_vectors = Table(
    "paper_vectors",
    metadata,
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("model_id", String(200), nullable=False),
    Column("revision", String(100), nullable=False),
    Column("input_version", Integer, nullable=False),
    Column("text_hash", String(32), nullable=False, comment="hash of the embedded input text"),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False, comment="float32, little-endian"),
    Column("embedded_at", DateTime, nullable=False, index=True),
)

upvotes = Table(
    "upvotes",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("created_at", DateTime, nullable=False, index=True, comment="when it was cast, UTC"),
)

Index("ix_papers_status_announced", papers.c.status, papers.c.announced)
