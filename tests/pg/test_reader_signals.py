"""tests/db/test_reader_signals.py on PostgreSQL (window functions over a batch of readers)."""

from tests.db.test_reader_signals import (
    test_a_batch_reads_each_readers_evidence_newest_first_within_the_limit,
)

__all__ = ["test_a_batch_reads_each_readers_evidence_newest_first_within_the_limit"]
