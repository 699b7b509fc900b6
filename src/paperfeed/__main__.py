"""`python -m paperfeed`: the same command line as `paperfeed`."""

from paperfeed.cli import main

main()
