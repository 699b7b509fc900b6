"""The upsert and merge rules of tests/db/test_papers.py, run as they are on PostgreSQL.

Importing the test functions makes pytest collect them here, where `db` is the PostgreSQL store
of tests/pg/conftest.py: one set of cases, both engines.
"""

from tests.db.test_papers import (
    test_a_deletion_applies_even_without_version_or_date,
    test_a_deletion_of_an_unknown_paper_is_stored_hidden,
    test_a_feed_entry_needs_its_paper,
    test_a_newer_version_replaces_the_text_and_keeps_what_it_does_not_say,
    test_a_record_without_version_does_not_overwrite_a_known_version,
    test_an_older_version_never_overwrites_a_newer_one,
    test_days_with_only_hidden_papers_are_skipped_in_navigation,
    test_deleted_and_withdrawn_papers_are_hidden_not_lost,
    test_duplicates_within_one_batch_count_once,
    test_featuring_is_idempotent_and_keeps_the_highest_upvote_count,
    test_the_same_record_twice_changes_nothing,
    test_without_versions_the_later_update_time_wins,
)

__all__ = [
    "test_a_deletion_applies_even_without_version_or_date",
    "test_a_deletion_of_an_unknown_paper_is_stored_hidden",
    "test_a_feed_entry_needs_its_paper",
    "test_a_newer_version_replaces_the_text_and_keeps_what_it_does_not_say",
    "test_a_record_without_version_does_not_overwrite_a_known_version",
    "test_an_older_version_never_overwrites_a_newer_one",
    "test_days_with_only_hidden_papers_are_skipped_in_navigation",
    "test_deleted_and_withdrawn_papers_are_hidden_not_lost",
    "test_duplicates_within_one_batch_count_once",
    "test_featuring_is_idempotent_and_keeps_the_highest_upvote_count",
    "test_the_same_record_twice_changes_nothing",
    "test_without_versions_the_later_update_time_wins",
]
