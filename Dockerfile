# The bot's image: the same install as the README's `make serve`, on Python 3.11.
FROM python:3.11-slim

WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md Makefile babel.cfg ./
COPY bot ./bot
COPY locales ./locales
COPY nlu_data ./nlu_data
# Train the NLU and build the language word table now, not at the first start.
RUN make install VENV=/opt/venv && /opt/venv/bin/python -m bot train \
    && /opt/venv/bin/python -m bot detect </dev/null

ENV HOST=0.0.0.0 PORT=8000 DATABASE_URL=sqlite:////app/data/xoobay-bot.db
EXPOSE 8000
CMD ["/opt/venv/bin/python", "-m", "bot", "serve"]
