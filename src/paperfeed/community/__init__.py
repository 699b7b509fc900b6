"""Community use cases: sign-in and sessions, upvotes, comments, collections, submit, feature,
roles, rate limits and trending. Pages, the JSON API and the CLI call these; each opens its own
transaction."""
