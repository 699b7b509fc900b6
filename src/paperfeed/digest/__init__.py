"""Email digests: compose (pure), render, the delivery ledger engine, SMTP senders, subscribing."""
