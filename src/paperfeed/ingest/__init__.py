"""Ingestion: one module per source of paper metadata, all behind the `Source` protocol."""
