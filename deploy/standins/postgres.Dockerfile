# Stand-in for postgres:15 from Debian bookworm's PostgreSQL 15, used only where Docker Hub
# cannot be reached. Like the official image: PGDATA in /var/lib/postgresql/data; a first
# start creates a UTF-8 cluster, POSTGRES_USER (password POSTGRES_PASSWORD) and
# POSTGRES_DB; clients of other hosts log in with a password (scram-sha-256).
FROM xoobay-standin/bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
CMD ["postgres"]
