"""A fake GitHub REST API for the stars job: `GET /repos/{owner}/{name}` answers
`stargazers_count` with an ETag, 304 to a matching `If-None-Match` (free, as on GitHub), 404 for
an unknown repository, and GitHub's rate-limit headers; once the limit is spent, 403."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.ingest.conftest import Received, Reply

RESET = 1_900_000_000  # x-ratelimit-reset: 2030-03-17T17:46:40Z


@dataclass
class FakeGitHub:
    """Repositories by `owner/name` with their stars, and how many requests are left."""

    stars: dict[str, int] = field(default_factory=dict)
    remaining: int = 60

    def etag(self, slug: str) -> str:
        return f'W/"{slug.replace("/", "-")}-{self.stars[slug]}"'

    def __call__(self, received: Received) -> Reply:
        limits = {"x-ratelimit-limit": "60", "x-ratelimit-reset": str(RESET)}
        parts = received.path.split("/")
        if len(parts) != 4 or parts[1] != "repos":
            return Reply(b'{"message": "Not Found"}', status=404, content_type="application/json")
        slug = f"{parts[2]}/{parts[3]}"
        if slug in self.stars and received.headers.get("if-none-match") == self.etag(slug):
            return Reply(
                b"", status=304, headers={**limits, "x-ratelimit-remaining": str(self.remaining)}
            )
        if self.remaining <= 0:
            body = b'{"message": "API rate limit exceeded for 127.0.0.1."}'
            headers = {**limits, "x-ratelimit-remaining": "0"}
            return Reply(body, status=403, headers=headers, content_type="application/json")
        self.remaining -= 1
        headers = {**limits, "x-ratelimit-remaining": str(self.remaining)}
        if slug not in self.stars:
            return Reply(
                b'{"message": "Not Found"}',
                status=404,
                headers=headers,
                content_type="application/json",
            )
        body = json.dumps({"full_name": slug, "stargazers_count": self.stars[slug]}).encode()
        headers["ETag"] = self.etag(slug)
        return Reply(body, headers=headers, content_type="application/json; charset=utf-8")
