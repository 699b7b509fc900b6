"""Table definitions of the store; the Alembic migrations create exactly these tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _owner() -> Column[int]:
    """The member a row belongs to (indexed); deleting the member deletes the row."""
    return Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
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
    Column(
        "handle",
        String(32),
        nullable=True,
        comment="@handle in mentions, lower case (m018); made at sign-up from the address",
    ),
    Column("created_at", DateTime, nullable=False),
)

# Unique, as an index: SQLite adds it to an existing table without copying the table (m018).
Index("ix_users_handle", users.c.handle, unique=True)

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

# Community (m006): mail, sign-in, sessions, comments, collections, API tokens, rate limits.

site_keys = Table(
    "site_keys",
    metadata,
    Column("name", String(64), primary_key=True, comment="what the key signs, e.g. csrf"),
    Column("secret", LargeBinary, nullable=False, comment="random bytes made on first use"),
    Column("created_at", DateTime, nullable=False),
)

dev_mailbox = Table(
    "dev_mailbox",
    metadata,
    Column("message_id", Integer, primary_key=True, autoincrement=True),
    Column("recipients", Text, nullable=False, comment="To/Cc/Bcc addresses, lower case, comma"),
    Column("subject", Text, nullable=False),
    Column("sent_at", DateTime, nullable=False, index=True),
    Column("raw", LargeBinary, nullable=False, comment="the whole message as sent (RFC 5322)"),
)

sign_in_links = Table(
    "sign_in_links",
    metadata,
    Column("token_hash", String(64), primary_key=True, comment="SHA-256 of the emailed token"),
    Column("email", String(320), nullable=False, index=True),
    Column("browser_hash", String(64), nullable=False, comment="SHA-256 of the asking browser"),
    Column("next_path", Text, nullable=False, server_default="/"),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False, index=True),
    Column("used_at", DateTime, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True, comment="SHA-256 of the cookie value"),
    _owner(),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False, index=True),
)

comments = Table(
    "comments",
    metadata,
    Column("comment_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    _owner(),
    Column("body", Text, nullable=False, comment="plain text; links are made at render time"),
    Column("created_at", DateTime, nullable=False),
    Column("edited_at", DateTime, nullable=True),
    Column("hidden_at", DateTime, nullable=True, comment="set by a curator; None: visible"),
    Column(
        "hidden_by",
        Integer,
        ForeignKey("users.user_id", ondelete="SET NULL"),
        nullable=True,
    ),
    # No foreign key: SQLite adds one to an existing table only by copying the table, and
    # dropping the old copy would cascade. The service keeps it right (a reply's parent is a
    # comment of the same paper), and a parent that is gone leaves its replies at the top.
    Column(
        "parent_id",
        Integer,
        nullable=True,
        index=True,
        comment="the comment this one replies to (m018; no foreign key, see db/schema.py)",
    ),
    Column(
        "deleted_at",
        DateTime,
        nullable=True,
        comment="deleted by its author while it had replies: kept blank so they keep their place",
    ),
)

collections = Table(
    "collections",
    metadata,
    Column("collection_id", Integer, primary_key=True, autoincrement=True),
    _owner(),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("is_public", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "name", name="uq_collections_user_id_name"),
)

collection_items = Table(
    "collection_items",
    metadata,
    Column(
        "collection_id",
        Integer,
        ForeignKey("collections.collection_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("added_at", DateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=True),
    _owner(),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the token"),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime, nullable=True),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("bucket", String(200), primary_key=True, comment="action and who, e.g. comment:u:7"),
    Column("window_start", DateTime, nullable=False, index=True),
    Column("hits", Integer, nullable=False),
)

Index("ix_papers_status_announced", papers.c.status, papers.c.announced)

# Digests (m007): subscribers, issues, the delivery ledger, papers sent. Send-rate and
# confirmation-mail counters live in rate_limits (m006), buckets digest:smtp, digest:confirm:*.
# The ledger decides (docs/digests.md): one row per issue and recipient, written before any send.
subscribers = Table(
    "subscribers",
    metadata,
    Column("subscriber_id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True, comment="lower-cased address"),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="SET NULL"),
        nullable=True,
        index=True,
        comment="the member who subscribed, if signed in (personal picks come from their upvotes)",
    ),
    Column(
        "status", String(16), nullable=False, comment="pending, active, unsubscribed, suppressed"
    ),
    Column(
        "confirmed_at", DateTime, nullable=True, comment="double opt-in done; None: never mailed"
    ),
    Column("frequency", String(8), nullable=False, comment="daily or weekly"),
    Column("weekday", Integer, nullable=False, comment="weekly digests: 0 Monday .. 6 Sunday"),
    Column("top_n", Integer, nullable=False, comment="trending papers per digest (0: none)"),
    Column("categories", JSON, nullable=False, comment="arXiv categories to match"),
    Column("searches", JSON, nullable=False, comment="saved search queries to match"),
    Column("personal", Boolean, nullable=False, comment="add personal picks from upvotes"),
    Column("max_papers", Integer, nullable=False, comment="most papers in one digest"),
    Column("send_empty", Boolean, nullable=False, comment="mail even when nothing is new"),
    Column("paused", Boolean, nullable=False, comment="keep the subscription, send nothing"),
    Column("token", String(64), nullable=False, unique=True, comment="secret of manage links"),
    Column("confirm_hash", String(64), nullable=True, comment="sha256 of the open confirm token"),
    Column("confirm_expires_at", DateTime, nullable=True),
    Column("hard_bounces", Integer, nullable=False, comment="5xx refusals in a row"),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

digest_issues = Table(
    "digest_issues",
    metadata,
    Column("issue_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False, comment="daily or weekly"),
    Column("period", Date, nullable=False, comment="the day the digest is for (weekly: last day)"),
    Column("status", String(16), nullable=False, comment="building, sending, paused, done"),
    Column("paused_reason", Text, nullable=True),
    Column("ratio_since", DateTime, nullable=False, comment="failure ratio counts rows after it"),
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    UniqueConstraint("kind", "period", name="uq_digest_issues_kind_period"),
)

digest_ledger = Table(
    "digest_ledger",
    metadata,
    Column("ledger_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "issue_id",
        Integer,
        ForeignKey("digest_issues.issue_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.subscriber_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "state",
        String(16),
        nullable=False,
        comment="pending, claimed, sent, deferred, failed, suppressed, skipped",
    ),
    Column("message_id", String(255), nullable=False, unique=True, comment="fixed at creation"),
    Column("paper_ids", JSON, nullable=True, comment="the composed papers, fixed at first claim"),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime, nullable=True, comment="deferred rows wait until then"),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", DateTime, nullable=True, comment="a claim past it may be taken over"),
    Column("last_code", Integer, nullable=True, comment="last SMTP reply code"),
    Column("last_error", Text, nullable=True),
    Column("finished_at", DateTime, nullable=True, comment="when it became sent or failed"),
    UniqueConstraint("issue_id", "subscriber_id", name="uq_digest_ledger_issue_id_subscriber_id"),
)

digest_papers_sent = Table(
    "digest_papers_sent",
    metadata,
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.subscriber_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("paper_id", String(64), primary_key=True, comment="no foreign key: survives deletes"),
    Column(
        "issue_id",
        Integer,
        ForeignKey("digest_issues.issue_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("sent_at", DateTime, nullable=False),
)

Index("ix_digest_ledger_issue_id_state", digest_ledger.c.issue_id, digest_ledger.c.state)

# The daily loop (m009): each job's run per period, the day's listing, curators' unfeatures.
job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(32), primary_key=True, comment="fetch, embed, feature, digest"),
    Column("period", String(32), primary_key=True, comment="the day it is for, YYYY-MM-DD"),
    Column("state", String(16), nullable=False, comment="running, done, retry, failed"),
    Column("attempt", Integer, nullable=False, comment="runs so far (1 on the first)"),
    Column("started_at", DateTime, nullable=False, comment="start of the latest attempt"),
    Column("finished_at", DateTime, nullable=True, comment="end of the latest attempt"),
    Column("next_attempt_at", DateTime, nullable=True, comment="retry or failed: not before"),
    Column("counts", JSON, nullable=True, comment="what the run did, e.g. papers stored"),
    Column("error", Text, nullable=True, comment="why the latest attempt did not finish"),
)

announcements = Table(
    "announcements",
    metadata,
    Column("day", Date, primary_key=True, comment="the arXiv listing day"),
    Column("category", String(32), primary_key=True, comment="the listing it appeared in"),
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("kind", String(16), nullable=False, comment="new, cross-list or replacement"),
    Column("version", Integer, nullable=True, comment="the version announced"),
)

feed_vetoes = Table(
    "feed_vetoes",
    metadata,
    Column("day", Date, primary_key=True),
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="SET NULL"),
        nullable=True,
        comment="the curator who took it off the feed",
    ),
    Column("vetoed_at", DateTime, nullable=False),
)


# --- wt-foryou ---
# "For you" (m012): a reader's "more like this" / "not interested" on a card, and the secret of
# their private For you feed (stored only as a hash; a new one revokes the old).
reader_signals = Table(
    "reader_signals",
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
    ),
    Column("kind", String(8), nullable=False, comment="more (like this) or less (not interested)"),
    Column("created_at", DateTime, nullable=False),
)

reader_feed_tokens = Table(
    "reader_feed_tokens",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("token_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the token"),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime, nullable=True),
)


def utc_now() -> dt.datetime:
    """The current time as every timestamp column stores it: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- wt-triage ---
# The feature policy's picks (m011): why the worker put each paper on a day's feed.
feature_picks = Table(
    "feature_picks",
    metadata,
    Column("day", Date, primary_key=True, comment="the feed day it was put on"),
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("policy", String(32), nullable=False, comment="the policy that picked it: all, top:N"),
    Column("rank", Integer, nullable=False, comment="1 for the policy's first pick of the day"),
    Column("score", Float, nullable=True, comment="cosine to the members' interest, if ranked"),
    Column("reason", String(300), nullable=False, comment="why, in words, as /new shows it"),
    Column("picked_at", DateTime, nullable=False),
)


# --- wt-library ---
# A reader's imported library (m013): the file they gave (one per reader; a new import replaces
# it whole) and its entries, each matched to a paper of the store, embedded from its own title
# and abstract, or skipped with the reason.
reader_libraries = Table(
    "reader_libraries",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("source", String(300), nullable=False, comment="the file's name as given"),
    Column("file_format", String(16), nullable=False, comment="bibtex or csl-json"),
    Column("imported_at", DateTime, nullable=False),
)

library_entries = Table(
    "library_entries",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True, comment="1 for the file's first entry"),
    Column("entry_key", String(200), nullable=False, comment="the citation key or CSL id"),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False, comment="matched, embedded or skipped"),
    Column("matched_by", String(16), nullable=True, comment="arxiv, doi or title"),
    Column("paper_id", String(64), nullable=True, comment="the store's paper, if matched"),
    Column("note", String(300), nullable=True, comment="why it was skipped"),
    Column("model_id", String(200), nullable=True, comment="embedded: the embedder's model"),
    Column("dim", Integer, nullable=True),
    Column("vector", LargeBinary, nullable=True, comment="embedded: float32, little-endian"),
)

# --- wt-keyphrase ---
# Keyphrases of each paper (m014): computed from its embedded text by search/keyphrases.py.
paper_keyphrases = Table(
    "paper_keyphrases",
    metadata,
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, nullable=False, comment="the keyphrase method's version"),
    Column("text_hash", String(32), nullable=False, comment="hash of the text they came from"),
    Column("phrases", JSON, nullable=False, comment="[[phrase, score], ...], best first"),
    Column("computed_at", DateTime, nullable=False),
)

# --- wt-notes ---
# Reading-group notes (m015): the owner's note and read state per collection item; the row goes
# with the item (taking a paper out of a collection drops its note).
collection_notes = Table(
    "collection_notes",
    metadata,
    Column("collection_id", Integer, primary_key=True),
    Column("paper_id", String(64), primary_key=True),
    Column("note", Text, nullable=False, server_default="", comment="plain text, the owner's"),
    Column("read_at", DateTime, nullable=True, comment="when the owner marked it read; or unread"),
    Column("updated_at", DateTime, nullable=False),
    ForeignKeyConstraint(
        ["collection_id", "paper_id"],
        ["collection_items.collection_id", "collection_items.paper_id"],
        name="fk_collection_notes_collection_items",
        ondelete="CASCADE",
    ),
)

# --- wt-links ---
# Code and project links of papers (m016): found in the abstract and comment when a paper is
# stored, or set by a member (docs/web.md, "Code and project links"); stars for GitHub ones.
paper_links = Table(
    "paper_links",
    metadata,
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "url", String(500), primary_key=True, index=True, comment="canonical: a repository's root"
    ),
    Column("kind", String(16), nullable=False, comment="github, gitlab, hf_model, … or project"),
    Column("source", String(16), nullable=False, comment="found (abstract/comment), member, hf"),
    Column("position", Integer, nullable=False, comment="the order it was found or given in"),
    Column(
        "added_by",
        Integer,
        ForeignKey("users.user_id", ondelete="SET NULL"),
        nullable=True,
        comment="the member who set it",
    ),
    Column("added_at", DateTime, nullable=False),
    Column("stars", Integer, nullable=True, comment="GitHub stars at stars_checked_at"),
    Column("stars_etag", String(200), nullable=True, comment="for conditional requests"),
    Column("stars_checked_at", DateTime, nullable=True),
)

# What Hugging Face's daily papers say of a paper (m017): its submitter there, AI summary and
# keywords, shown labelled "from Hugging Face" (its repository and project page go to
# paper_links, source hf).
hf_papers = Table(
    "hf_papers",
    metadata,
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("submitter", String(100), nullable=True, comment="who submitted it on Hugging Face"),
    Column("ai_summary", Text, nullable=True),
    Column("ai_keywords", JSON, nullable=True, comment="a list of keywords"),
    Column("updated_at", DateTime, nullable=False),
)

# --- wt-talk ---
# Conversation (m018): comments.parent_id and users.handle above, then mentions, notifications,
# their mail ledger, members' notification settings and reports on comments (docs/web.md).
comment_mentions = Table(
    "comment_mentions",
    metadata,
    Column(
        "comment_id",
        Integer,
        ForeignKey("comments.comment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("handle", String(32), nullable=False, comment="the @handle as written in the comment"),
)

notification_mails = Table(
    "notification_mails",
    metadata,
    Column("mail_id", Integer, primary_key=True, autoincrement=True),
    _owner(),
    Column(
        "state",
        String(16),
        nullable=False,
        comment="pending, claimed, sending, sent, deferred, failed, skipped, unknown",
    ),
    Column("message_id", String(255), nullable=False, unique=True, comment="fixed at creation"),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime, nullable=True, comment="deferred mails wait until then"),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", DateTime, nullable=True, comment="a claim past it may be taken over"),
    Column("last_code", Integer, nullable=True, comment="last SMTP reply code"),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime, nullable=False, index=True),
    Column("finished_at", DateTime, nullable=True),
)

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", Integer, primary_key=True, autoincrement=True),
    _owner(),
    Column("kind", String(16), nullable=False, comment="reply, mention or activity"),
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "comment_id",
        Integer,
        ForeignKey("comments.comment_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "actor_id",
        Integer,
        ForeignKey("users.user_id", ondelete="SET NULL"),
        nullable=True,
        comment="who wrote the comment",
    ),
    Column("created_at", DateTime, nullable=False),
    Column("read_at", DateTime, nullable=True),
    Column(
        "mail_id",
        Integer,
        ForeignKey("notification_mails.mail_id", ondelete="SET NULL"),
        nullable=True,
        index=True,
        comment="the mail that carries it; None: not (yet) mailed",
    ),
    UniqueConstraint("user_id", "comment_id", name="uq_notifications_user_id_comment_id"),
)

notification_settings = Table(
    "notification_settings",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("email", Boolean, nullable=False, comment="mail notifications (off by default)"),
    Column(
        "email_since", DateTime, nullable=True, comment="only notifications after it are mailed"
    ),
    Column("updated_at", DateTime, nullable=False),
)

comment_reports = Table(
    "comment_reports",
    metadata,
    Column("report_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "comment_id",
        Integer,
        ForeignKey("comments.comment_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    _owner(),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("resolved_at", DateTime, nullable=True, comment="None: open, in the curators' queue"),
    Column(
        "resolved_by",
        Integer,
        ForeignKey("users.user_id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("resolution", String(16), nullable=True, comment="hidden or dismissed"),
    UniqueConstraint("comment_id", "user_id", name="uq_comment_reports_comment_id_user_id"),
)

# --- wt-authors ---
# Authors (m019): each name on each paper with its bucket (folded family name + first initial,
# author_names.py), filled lazily from papers.modified_at (never by the import itself); members'
# follows of an author key; claims of an author key, decided by a curator.
author_papers = Table(
    "author_papers",
    metadata,
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.paper_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True, comment="0 for the first author"),
    Column("bucket", String(128), nullable=False, index=True, comment="family name + initial"),
    Column("name_key", String(128), nullable=False, comment="family name + given name"),
    Column("name", String(300), nullable=False, comment="the name as the paper writes it"),
)

author_follows = Table(
    "author_follows",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("author_key", String(128), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Index("ix_author_follows_author_key", "author_key"),
)

author_claims = Table(
    "author_claims",
    metadata,
    Column("claim_id", Integer, primary_key=True, autoincrement=True),
    Column("author_key", String(128), nullable=False, index=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("status", String(16), nullable=False, comment="pending, approved or refused"),
    Column("note", Text, nullable=True, comment="what the member says to the curator"),
    Column("created_at", DateTime, nullable=False),
    Column("decided_at", DateTime, nullable=True),
    Column(
        "decided_by",
        Integer,
        ForeignKey("users.user_id", ondelete="SET NULL"),
        nullable=True,
        comment="the curator",
    ),
)

# --- wt-topics ---
# A reader's chosen categories and saved searches (m020): For you's topic signals
# (docs/for-you.md, "Topics"). One row per reader, kind and value.
reader_topics = Table(
    "reader_topics",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(16), primary_key=True, comment="category or search"),
    Column(
        "value",
        String(200),
        primary_key=True,
        comment="an arXiv category, or a search query (spaces collapsed)",
    ),
    Column("created_at", DateTime, nullable=False),
)
