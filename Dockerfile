# Switchboard with the demo config: docker build -t switchboard . && docker run -p 8080:8080 switchboard
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The hub runs as an unprivileged user.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home hub

WORKDIR /app
COPY . /app

# A regular (non-editable) install: the hub and its connectors land in site-packages, with the
# Alembic migrations and py.typed. /app keeps the config, mappings, schemas and examples.
# var/ (next to the config) holds the SQLite store and the demo outbox: the hub user must own it.
RUN pip install --no-cache-dir '.[postgres]' \
    && rm -rf build ./*.egg-info \
    && mkdir -p /app/var \
    && chown hub:hub /app/var

USER hub
VOLUME ["/app/var"]
EXPOSE 8080

# python:3.11-slim has no curl; urlopen raises (exit 1) unless /healthz answers 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3)"]

CMD ["hub", "run", "--config", "config.example.yaml", "--host", "0.0.0.0"]
