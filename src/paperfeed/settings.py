"""Settings: one typed class read from `PAPERFEED_*` environment variables (and `.env`)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, computed_field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url


class Settings(BaseSettings):
    """Everything an operator can set. Each field is documented in docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="PAPERFEED_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite database, search indexes and backups.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the store, e.g. sqlite:///paperfeed.db or "
            "postgresql+psycopg://user@host/paperfeed. Default: paperfeed.db in data_dir."
        ),
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000, description="How long a SQLite writer waits for a lock before failing."
    )
    host: str = Field(default="127.0.0.1", description="Address `paperfeed serve` binds.")
    port: int = Field(default=8000, description="Port `paperfeed serve` listens on.")
    arxiv_api_url: str = Field(
        default="https://export.arxiv.org/api/query", description="arXiv API endpoint (Atom)."
    )
    oai_pmh_url: str = Field(
        default="https://export.arxiv.org/oai2", description="arXiv OAI-PMH endpoint."
    )
    arxiv_request_interval_s: float = Field(
        default=3.0,
        description="Seconds between two requests to arXiv (its published limit is one per 3 s).",
    )
    hf_api_url: str = Field(
        default="https://huggingface.co",
        description="Hugging Face compatible hub whose /api/daily_papers `ingest hf-daily "
        "--since` reads (another paperfeed hub works too).",
    )
    hf_request_interval_s: float = Field(
        default=1.0, description="Seconds between two requests to that /api/daily_papers."
    )
    hf_mirror: bool = Field(
        default=False,
        description="The daily loop mirrors PAPERFEED_HF_API_URL's daily papers (the hf_mirror "
        "job, once a UTC day).",
    )
    hf_mirror_days: int = Field(
        default=3,
        ge=1,
        le=60,
        description="Days the hf_mirror job reads each run: the ones before today (UTC), "
        "so late upvotes come in too.",
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        description="GitHub REST API the stars job asks (its host must be api.github.com).",
    )
    github_token: SecretStr | None = Field(
        default=None,
        description="Optional GitHub token for the stars job: 5,000 requests an hour, not 60.",
    )
    github_request_interval_s: float = Field(
        default=1.0, description="Seconds between two requests to GitHub."
    )
    github_stars_per_run: int = Field(
        default=50,
        ge=0,
        description="Most repositories the daily stars job asks about per run (0: job off).",
    )
    github_stars_max_age_days: float = Field(
        default=7.0, gt=0, description="Stars counted longer ago than this are counted again."
    )
    http_timeout_s: float = Field(default=30.0, description="Timeout of one outbound request.")
    http_retries: int = Field(
        default=5, description="Retries of an outbound request on 5xx, timeouts and drops."
    )
    semantic_search: bool = Field(
        default=True,
        description="Embed papers and queries (all-MiniLM-L6-v2) for hybrid search and similar "
        "papers; off: keyword search only.",
    )
    embedding_model: str = Field(
        default="",
        description="Embedding model: a sentence-transformers model name or a local folder; "
        "unset: the shipped all-MiniLM-L6-v2 (int8 ONNX, offline). Changing it needs "
        "`paperfeed index --rebuild`.",
    )
    embedder_device: Literal["cpu", "cuda"] = Field(
        default="cpu", description="Where the embedder runs: cpu (int8 ONNX) or cuda (fp16)."
    )
    embed_timeout_s: float = Field(
        default=2.0,
        description="Longest wait for a query's embedding; past it, keyword results come back.",
    )
    site_name: str = Field(default="paperfeed", description="Name shown in page titles.")
    public_url: str = Field(
        default="",
        description="Address readers reach the hub at; links in emails and feeds start with it. "
        "Unset: http://HOST:PORT from host and port.",
    )
    # Exposure (docs/web.md, "Security").
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Host names the hub answers to besides public_url's (comma-separated; "
        "`*.example.org` for subdomains); loopback names too on loopback connections.",
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Proxy addresses whose X-Forwarded-For/-Proto are trusted (comma-separated); "
        "empty: none, the headers are ignored.",
    )
    allow_public_dev_mailbox: bool = Field(
        default=False,
        description="Serve on a non-loopback address, and show /dev/mailbox to other machines, "
        "while no SMTP host is set: anyone who reaches the hub can then sign in as anyone.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body accepted (forms and JSON alike); larger: 413.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for outgoing mail; unset: mail goes to the development mailbox.",
    )
    smtp_port: int = Field(default=587, description="SMTP server port.")
    smtp_user: str | None = Field(default=None, description="SMTP user name, if it needs one.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="SMTP transport security: none, starttls or tls."
    )
    smtp_timeout_s: float = Field(default=30.0, description="Timeout of one SMTP command.")
    mail_from: str = Field(
        default="paperfeed <paperfeed@localhost>", description="From address of outgoing mail."
    )
    # Digests (docs/digests.md).
    digest_concurrency: int = Field(
        default=4, ge=1, le=64, description="Digest sender workers, each with one SMTP connection."
    )
    digest_processes: int = Field(
        default=1, ge=1, le=64, description="Digest sender processes (each runs the workers)."
    )
    digest_rate_per_minute: int = Field(
        default=0, ge=0, description="Most digest mails per minute over all senders (0: no limit)."
    )
    digest_lease_s: float = Field(
        default=300.0, gt=0, description="How long a sender holds a claimed row before another may."
    )
    digest_retry_base_s: float = Field(
        default=60.0, gt=0, description="First retry delay after a 4xx or a drop; doubles each try."
    )
    digest_retry_max_s: float = Field(
        default=3600.0, gt=0, description="Longest retry delay of a deferred digest mail."
    )
    digest_max_attempts: int = Field(
        default=8, ge=1, description="Tries of one digest mail before it is marked failed."
    )
    digest_pause_ratio: float = Field(
        default=0.2, gt=0, le=1, description="Failed share of an issue's mails that pauses it."
    )
    digest_bounce_threshold: int = Field(
        default=3, ge=1, description="Hard bounces in a row after which an address is suppressed."
    )
    digest_max_wait_s: float = Field(
        default=900.0, ge=0, description="How long `digest send` waits for deferred mails to retry."
    )
    digest_confirmations_per_day: int = Field(
        default=3, ge=1, description="Confirmation mails one address may get per day (then 429)."
    )
    digest_dkim_key_file: Path | None = Field(
        default=None, description="PEM private key to DKIM-sign digests with; unset: no signing."
    )
    digest_dkim_selector: str = Field(default="paperfeed", description="DKIM selector (s=).")
    # Notification mail (docs/web.md, "Notifications"): opt-in per member.
    notify_mail_every_minutes: float = Field(
        default=30.0,
        gt=0,
        description="Most one notification mail per member per this many minutes; what comes "
        "in between waits for the next mail.",
    )
    # The daily loop run by `paperfeed worker` (docs/daily-loop.md).
    arxiv_categories: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="arXiv categories whose daily listing the worker fetches (comma-separated, "
        "e.g. cs.CL,cs.LG); empty: the worker fetches nothing.",
    )
    arxiv_listing_url: str = Field(
        default="https://rss.arxiv.org/atom/{category}",
        description="arXiv's per-category listing feed (Atom); {category} is replaced.",
    )
    announce_cron: str = Field(
        default="0 20 * * 0-4",
        description="When arXiv announces (cron, in announce_timezone): Sunday-Thursday 20:00.",
    )
    announce_timezone: str = Field(
        default="America/New_York", description="Time zone of announce_cron."
    )
    fetch_retry_minutes: float = Field(
        default=30.0,
        gt=0,
        description="Wait before looking again when the day's listing is not out yet.",
    )
    fetch_give_up_hours: float = Field(
        default=10.0,
        gt=0,
        description="Stop looking for a day's listing this long after the announcement time "
        "(a holiday: no listing that day).",
    )
    auto_feature: str = Field(
        default="none",
        description="Which new papers the worker features: none (curators only), all, or top:N "
        "(the N closest to what members upvoted and collected lately).",
    )
    auto_feature_window_days: int = Field(
        default=30, ge=1, description="How far back top:N looks at members' upvotes and saves."
    )
    digest_time: str = Field(
        default="08:00", description="When the worker sends the day's digests (HH:MM)."
    )
    digest_timezone: str = Field(default="UTC", description="Time zone of digest_time.")
    schedule_grace_minutes: float = Field(
        default=60.0,
        gt=0,
        description="How late a due job may be before /healthz calls the schedule stale.",
    )
    queue_heartbeat_s: float = Field(
        default=10.0,
        gt=0,
        description="PostgreSQL engine: how often a worker tells the job queue it is alive.",
    )
    queue_stalled_after_s: float = Field(
        default=30.0,
        gt=0,
        description="PostgreSQL engine: a worker silent this long is taken for dead and its "
        "running jobs are queued again.",
    )
    digest_recipients_per_job: int = Field(
        default=500,
        ge=1,
        description="PostgreSQL engine: an issue is delivered by one queued job per this many "
        "recipients, spread over the workers.",
    )

    @field_validator("allowed_hosts", "forwarded_allow_ips", "arxiv_categories", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _public_url_follows_host_and_port(self) -> Self:
        if not self.public_url:
            self.public_url = served_url(host=self.host, port=self.port)
        return self

    @field_validator("announce_timezone", "digest_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. America/New_York, UTC)") from None
        return value

    @field_validator("auto_feature")
    @classmethod
    def _feature_policy(cls, value: str) -> str:
        cleaned = value.strip().lower()
        if cleaned in ("none", "all") or re.fullmatch(r"top:[1-9]\d{0,3}", cleaned):
            return cleaned
        raise ValueError(f"auto_feature is none, all or top:N (N from 1 to 9999), not {value!r}")

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if match is None:
            raise ValueError(f"digest_time is HH:MM, not {value!r}")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dev_mailbox(self) -> bool:
        """Whether mail goes to the development mailbox (no SMTP host is set)."""
        return self.smtp_host is None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: the explicit one, or the SQLite file in data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'paperfeed.db').resolve()}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def search_dir(self) -> Path:
        """Where the search indexes of this store live: beside a SQLite file, else in data_dir.

        Derived from the database, so two stores never share (and corrupt) one index.
        """
        url = make_url(self.resolved_database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            db_file = Path(url.database).expanduser()
            return db_file.with_name(f"{db_file.stem}-search")
        digest = hashlib.blake2b(
            url.render_as_string(hide_password=True).encode(), digest_size=6
        ).hexdigest()
        return self.data_dir / f"search-{digest}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def worker_lock_path(self) -> Path:
        """The file `paperfeed worker` locks: one worker per store (beside the search indexes)."""
        return self.search_dir.with_name(f"{self.search_dir.name}.worker.lock")


# Addresses that mean "every interface": a browser cannot go there, this machine's loopback can.
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})


def served_url(*, host: str, port: int) -> str:
    """The http URL of a server listening on host:port (the default `public_url`)."""
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{port}"
