# Stand-in for python:3.11-slim, from Debian bookworm's own Python 3.11: used only where
# Docker Hub cannot be reached (scripts/compose-stack builds it then). The build context
# holds this machine's extra CA certificates and pip.conf, so pip inside the image
# reaches the same package index as the machine does.
FROM xoobay-standin/bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s /usr/bin/python3 /usr/local/bin/python
COPY ca/ /usr/local/share/ca-certificates/
COPY pip.conf /etc/pip.conf
RUN update-ca-certificates
CMD ["python3"]
