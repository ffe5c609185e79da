#!/bin/sh
# Run once by the postgres image when it creates the database (docker-entrypoint-initdb.d): the role
# the app connects as. It owns nothing; `python -m backend migrate`, run as the owner (POSTGRES_USER),
# grants it exactly what the app needs after every migration (backend/core/migrate.py).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE daqing_app LOGIN PASSWORD :'password';
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
