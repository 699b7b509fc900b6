"""Search: embedder, vector index, keyword index, hybrid fusion, similar papers."""
