# The bot's image: the same install as the README's `make serve` (without the test tools),
# on Python 3.11. It runs as an unprivileged user, who owns only /app/data (the SQLite
# database of the defaults, the NLU model and the language word table).
FROM python:3.11-slim

WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --home-dir /app --shell /usr/sbin/nologin xoobay
COPY pyproject.toml constraints.txt README.md Makefile babel.cfg ./
COPY bot ./bot
COPY locales ./locales
COPY nlu_data ./nlu_data
# Train the NLU and build the language word table now, not at the first start.
RUN make install VENV=/opt/venv EXTRAS= && /opt/venv/bin/python -m bot train \
    && /opt/venv/bin/python -m bot detect </dev/null \
    && chown -R xoobay:xoobay /app/data

USER xoobay
ENV HOST=0.0.0.0 PORT=8000 DATABASE_URL=sqlite:////app/data/xoobay-bot.db
EXPOSE 8000
CMD ["/opt/venv/bin/python", "-m", "bot", "serve"]
