"""The second process of a large snapshot import: `python -m paperfeed.ingest._parse_process`.

Arguments: the file, the lines and the bytes of a chunk. It reads and parses the file and
writes pickled frames to stdout (see `snapshot.parse_file_to`); the importing process reads
them. A plain subprocess, not multiprocessing: nothing else (no resource tracker) is started.
"""

from __future__ import annotations

import sys
from pathlib import Path

from paperfeed.ingest.snapshot import parse_file_to


def main(argv: list[str]) -> None:
    path, lines, size_limit = argv
    parse_file_to(Path(path), sys.stdout.buffer, lines=int(lines), size_limit=int(size_limit))


if __name__ == "__main__":
    main(sys.argv[1:])
