"""Settings: where the store and its search indexes live."""

from pathlib import Path

import pytest

from paperfeed.settings import Settings


def test_the_store_defaults_to_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'paperfeed.db'}"
    assert settings.search_dir == tmp_path.resolve() / "paperfeed-search"


def test_each_store_gets_its_own_search_indexes(tmp_path: Path) -> None:
    one = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a' / 'one.db'}")
    two = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'two.db'}")
    pg = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://u:secret@db/papers")
    assert one.search_dir == tmp_path / "a" / "one-search"
    assert two.search_dir == tmp_path / "two-search"
    assert pg.search_dir.parent == tmp_path and pg.search_dir.name.startswith("search-")
    assert "secret" not in str(pg.search_dir)


def test_exposure_settings_default_to_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALLOWED_HOSTS", "FORWARDED_ALLOW_IPS", "ALLOW_PUBLIC_DEV_MAILBOX", "SMTP_HOST"):
        monkeypatch.delenv(f"PAPERFEED_{name}", raising=False)
    settings = Settings()
    assert settings.allowed_hosts == []
    assert settings.forwarded_allow_ips == []
    assert settings.allow_public_dev_mailbox is False
    assert settings.dev_mailbox is True
    assert settings.max_body_bytes == 1024 * 1024


def test_host_and_proxy_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_ALLOWED_HOSTS", "hub.example.org, *.example.net,")
    monkeypatch.setenv("PAPERFEED_FORWARDED_ALLOW_IPS", "10.0.0.1,10.0.0.0/8")
    settings = Settings()
    assert settings.allowed_hosts == ["hub.example.org", "*.example.net"]
    assert settings.forwarded_allow_ips == ["10.0.0.1", "10.0.0.0/8"]


def test_the_public_url_follows_host_and_port_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERFEED_PUBLIC_URL", raising=False)
    monkeypatch.delenv("PAPERFEED_HOST", raising=False)
    monkeypatch.delenv("PAPERFEED_PORT", raising=False)
    assert Settings().public_url == "http://127.0.0.1:8000"
    monkeypatch.setenv("PAPERFEED_PORT", "8123")
    assert Settings().public_url == "http://127.0.0.1:8123"
    assert Settings(host="localhost").public_url == "http://localhost:8123"
    assert Settings(host="::1", port=9000).public_url == "http://[::1]:9000"
    assert Settings(host="0.0.0.0").public_url == "http://127.0.0.1:8123"
    monkeypatch.setenv("PAPERFEED_PUBLIC_URL", "https://papers.example.org/hub")
    assert Settings().public_url == "https://papers.example.org/hub"
