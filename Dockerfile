# Production-like image: the API (and, once built, the PWA) on uvicorn. PostgreSQL runs separately
# (docker-compose.yml). Dependencies are installed from the same constraints.txt as development.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml constraints.txt README.md alembic.ini ./
COPY backend backend
COPY migrations migrations
COPY pwa pwa
# Editable install keeps the code in /app, where the app also finds alembic.ini and the PWA.
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && useradd --create-home --uid 10001 app && chown -R app /app
USER app

ENV APP_ENV=production HOST=0.0.0.0 PORT=8000
EXPOSE 8000
CMD ["sh", "-c", "python -m backend migrate && exec python -m backend serve"]
