# One image for every PayGate process: the command picks it (run, web, worker, bot,
# db upgrade, check-config, ...). Build: `podman build -t paygate .` (or docker).
#
# The base is the official slim Python image. Where no registry is reachable,
# scripts/make-base-image.sh builds that tag from Debian packages first.
ARG PYTHON_IMAGE=docker.io/library/python:3.11-slim-bookworm

# ---------------------------------------------------------------- build
FROM ${PYTHON_IMAGE} AS build

# pip and uv trust the image's certificate store rather than their bundled ones, so
# a build behind a TLS-inspecting proxy works once the base trusts its CA.
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    UV_SYSTEM_CERTS=1

# uv, pinned like the Makefile's, in a venv of its own that stays in this stage.
ARG UV_VERSION=0.13.10
RUN python -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

ENV UV_PROJECT_ENVIRONMENT=/opt/paygate \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

WORKDIR /src
# The dependencies first, exactly as uv.lock pins them (hashes checked): this layer
# is rebuilt only when the lock changes. No dev group (no emulators, no test tools);
# the postgres extra (asyncpg) is in.
COPY pyproject.toml uv.lock README.md LICENSE ./
COPY sandbox/pyproject.toml sandbox/
RUN /opt/uv/bin/uv sync --locked --no-dev --extra postgres --no-install-project --no-editable

# Then PayGate itself, as a wheel (not a link to /src, which the final stage lacks).
COPY core core
COPY adapters adapters
COPY composition composition
RUN /opt/uv/bin/uv sync --locked --no-dev --extra postgres --no-editable \
    && /opt/paygate/bin/paygate --help > /dev/null

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE}

# A user of its own; its home is the working directory, where the SQLite default
# (paygate.db) would live: mount a volume there to keep it.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/paygate \
        --shell /usr/sbin/nologin paygate

# Only the virtualenv: no compiler, no uv, no pip, no source tree.
COPY --from=build /opt/paygate /opt/paygate

ENV PATH=/opt/paygate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PAYGATE_HTTP_HOST=0.0.0.0 \
    PAYGATE_HTTP_PORT=8080

USER paygate
WORKDIR /var/lib/paygate
EXPOSE 8080

# /healthz answers while the HTTP server serves (run and web). The worker and the
# bot serve no HTTP: compose.yaml turns this check off for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PAYGATE_HTTP_PORT', '8080'), timeout=4)"]

ENTRYPOINT ["paygate"]
CMD ["run"]
