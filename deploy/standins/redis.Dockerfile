# Stand-in for redis:7 from Debian bookworm's Redis 7, used only where Docker Hub cannot be
# reached. Like the official image: no protected mode, nothing kept on disk by default.
FROM xoobay-standin/bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
EXPOSE 6379
USER redis
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--dir", "/tmp"]
