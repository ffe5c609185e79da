# Production-like image: the API and the PWA on uvicorn. PostgreSQL runs separately
# (docker-compose.yml). Dependencies are installed from the same constraints.txt / package-lock.json
# as development.

# 1. The PWA, built with the locked npm packages.
FROM node:20-slim AS pwa
WORKDIR /pwa
COPY pwa/package.json pwa/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY pwa ./
RUN npm run build

# 2. The API, serving the built PWA from pwa/dist.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml constraints.txt README.md alembic.ini ./
COPY backend backend
COPY migrations migrations
COPY pwa/placeholder pwa/placeholder
COPY --from=pwa /pwa/dist pwa/dist
# Editable install keeps the code in /app, where the app also finds alembic.ini and the PWA.
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && useradd --create-home --uid 10001 app && chown -R app /app
USER app

ENV APP_ENV=production HOST=0.0.0.0 PORT=8000
EXPOSE 8000
CMD ["sh", "-c", "python -m backend migrate && exec python -m backend serve"]
