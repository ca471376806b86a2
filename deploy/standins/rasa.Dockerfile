# Stand-in for rasa/rasa:3.6.21-full: used only where Docker Hub cannot be reached
# (scripts/compose-stack builds it then). Rasa 3.6 needs Python 3.10, which Debian bookworm
# does not have: the build context holds this machine's own Python 3.10 (python3.10/, the
# one scripts/rasa-server uses), and Rasa comes from the machine's package index, as in
# the python stand-in. Like the official image: `rasa` and `python` on PATH, /app, user 1001.
FROM xoobay-standin/bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 libffi8 \
       libsqlite3-0 libbz2-1.0 liblzma5 zlib1g libreadline8 libncursesw6 libgdbm6 libuuid1 \
       libexpat1 \
    && rm -rf /var/lib/apt/lists/*
COPY ca/ /usr/local/share/ca-certificates/
COPY pip.conf /etc/pip.conf
RUN update-ca-certificates
COPY python3.10/ /opt/python3.10/
RUN echo /opt/python3.10/lib >/etc/ld.so.conf.d/python3.10.conf && ldconfig \
    && /opt/python3.10/bin/python3.10 -m venv /opt/venv \
    && /opt/venv/bin/pip install --quiet --no-cache-dir --upgrade "pip<24" \
    && /opt/venv/bin/pip install --quiet --no-cache-dir "rasa==3.6.21" \
    && mkdir -p /app && chown 1001 /app
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
USER 1001
ENTRYPOINT ["rasa"]
CMD ["--help"]
