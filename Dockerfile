# paperfeed: one image for the web process (`paperfeed serve`, the default command) and the
# worker (`paperfeed worker`). docs/deploy.md shows how to run it; compose.yaml runs both with
# PostgreSQL. The data folder (/data: SQLite store, search indexes, the built embedding model)
# is a volume.

# KaTeX (math in titles and abstracts) comes from npm, pinned and checked by the same script and
# the same version and hash as `make install` (Makefile: KATEX_VERSION, KATEX_SHA512).
FROM node:22-bookworm-slim AS katex
RUN apt-get update && apt-get install -y --no-install-recommends openssl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY Makefile scripts/install-katex.sh ./
RUN sh install-katex.sh \
    "$(sed -n 's/^KATEX_VERSION := //p' Makefile)" \
    "$(sed -n 's/^KATEX_SHA512 := //p' Makefile)" \
    /build/katex

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The dependencies pin torch==2.13.0 (the embedding model's package requires
# sentence-transformers): install its CPU build first, or pip pulls the multi-GB CUDA one.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY --from=katex /build/katex ./src/paperfeed/web/static/katex
RUN pip install ".[postgres]" && rm -rf /app/src
RUN useradd --create-home --uid 1000 paperfeed && mkdir /data && chown paperfeed:paperfeed /data
USER paperfeed
WORKDIR /data
# Listen on every interface of the container; the host decides what is published.
ENV PAPERFEED_DATA_DIR=/data \
    PAPERFEED_HOST=0.0.0.0 \
    PAPERFEED_PORT=8000
VOLUME ["/data"]
EXPOSE 8000
CMD ["paperfeed", "serve"]
