# Switchboard with the demo config: docker build -t switchboard . && docker run -p 8080:8080 switchboard
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    HUB_PORT=8080 \
    HUB_ANONYMOUS_SCOPES="ingest:shop-orders metrics"

# The hub runs as an unprivileged user.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home hub

WORKDIR /app

# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when the
# dependency list changes, not on every edit of the source.
COPY pyproject.toml /app/
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['postgres']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself, without touching the dependencies: a regular (non-editable) install,
# so the hub and its connectors land in site-packages with the Alembic migrations and py.typed.
# /app keeps the config, mappings, schemas and examples (.dockerignore leaves tests and the rest
# out). var/ (next to the config) holds the SQLite store and the demo outbox: the hub user owns it
# (var/outbox exists in the image, so a volume mounted there starts owned by the hub user too).
COPY . /app
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build ./*.egg-info \
    && mkdir -p /app/var/outbox \
    && chown -R hub:hub /app/var

USER hub
VOLUME ["/app/var"]
EXPOSE 8080

# The health check asks the port the hub listens on: $HUB_PORT (docker run -e HUB_PORT=9000).
# python:3.11-slim has no curl; urlopen raises (exit 1) unless /healthz answers 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HUB_PORT', '8080') + '/healthz', timeout=3)"

# The container listens on 0.0.0.0, so callers without a key may only post orders and scrape
# metrics (HUB_ANONYMOUS_SCOPES, read by config.example.yaml); reading and replaying take a key:
#   docker exec CONTAINER hub keys create ops --scope read --scope operate
# exec: the hub, not a shell, is PID 1 (it gets the stop signal; a restart frees its leases).
CMD ["sh", "-c", "exec hub run --config config.example.yaml --host 0.0.0.0 --port \"$HUB_PORT\""]
