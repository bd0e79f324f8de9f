# One image for every replica and the delivery worker. Configuration comes from GATEWAY_* env.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    GATEWAY_ENV=production GATEWAY_INSTANCE_DIR=/var/lib/gateway \
    PROMETHEUS_MULTIPROC_DIR=/tmp/gateway-metrics

RUN apt-get update \
 && apt-get install -y --no-install-recommends xmlsec1 libsodium23 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid gateway --home /var/lib/gateway gateway \
 && mkdir -p /var/lib/gateway /var/lib/gateway-witness /tmp/gateway-metrics \
 && chown gateway:gateway /var/lib/gateway /var/lib/gateway-witness /tmp/gateway-metrics

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY gateway ./gateway
COPY consent ./consent
COPY pseudonymise ./pseudonymise
COPY schemas ./schemas
COPY certs ./certs
RUN pip install -c constraints.txt .

USER gateway
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"

# Migrations first (refused silently never: a failure stops the container), then gunicorn.
CMD ["sh", "-c", "gateway db upgrade && gateway run --host 0.0.0.0 --port 8000 --workers ${GATEWAY_WORKERS:-4}"]
