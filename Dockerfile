# syntax=docker/dockerfile:1
# Production image for web, worker and beat (docker-compose.yml picks the command).
#   docker build -t itsm .
# Front-end packages come from npm at build time; static files are collected (hashed, compressed) into the
# image so whitenoise serves them without a separate web server.

FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json* ./
RUN if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=itsm.settings.production \
    PORT=8000
WORKDIR /app

RUN useradd --system --create-home --home-dir /home/itsm --uid 10001 itsm

COPY . .
COPY --from=assets /app/node_modules ./node_modules
# python-ldap (directory sign-in) compiles against the OpenLDAP and SASL headers; the compiler and headers
# go again after the install, the libraries stay.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libldap2-dev libsasl2-dev libldap-2.5-0 libsasl2-2 \
    && pip install . \
    && apt-get purge -y gcc libc6-dev libldap2-dev libsasl2-dev \
    && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/* \
    && SECRET_KEY=collectstatic-only-not-a-secret DATABASE_URL=postgres://build@localhost/build \
       python manage.py collectstatic --noinput --verbosity 1 \
    && mkdir -p /app/var/media \
    && chown -R itsm:itsm /app/var

USER itsm
EXPOSE 8000
# The web service; docker-compose.yml runs migrations first and overrides the command for worker and beat.
CMD ["sh", "-c", "exec gunicorn itsm.wsgi --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-3} --access-logfile - --forwarded-allow-ips='*'"]
