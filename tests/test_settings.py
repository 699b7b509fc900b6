"""Settings: where the store and its search indexes live."""

from pathlib import Path

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
