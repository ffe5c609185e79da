"""Command line: `python -m backend <command>`.

run        database (embedded unless DATABASE_URL is set) + migrate + demo data + serve
serve      serve the API and the PWA (uvicorn)
migrate    apply Alembic migrations
seed       load the Daqing demo data (idempotent)
db-url     print the database URL in use (starting the embedded server if needed)
db-stop    stop the embedded server
openapi    print the OpenAPI document (JSON; no database needed)
rekey-children
           re-encrypt children's names and birth dates with the first key of CHILD_DATA_KEYS
open311-client add "<name>" | revoke <id> | list
           Open311 api keys (a new key is printed once)
import     institutions|rooms|population FILE --crs wgs84|gcj02|bd09 [--dry-run] [--report OUT]
export     institutions|rooms|population FILE.xlsx|FILE.csv [--crs …]
create-admin --email … --phone … [--force]
           the first city admin of a real deployment (password from ADMIN_PASSWORD, a prompt, or generated)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from backend.core.config import ConfigError, Settings
from backend.core.pgserver import dev_database_url, stop_embedded

log = logging.getLogger("backend.cli")


def database_url(settings: Settings) -> str:
    return settings.database_url or dev_database_url(settings.var_dir)


def cmd_migrate(settings: Settings) -> str:
    from backend.core.migrate import upgrade

    url = database_url(settings)
    upgrade(url)
    log.info("migrations applied")
    return url


def cmd_seed(settings: Settings, url: str | None = None) -> None:
    from backend.demo.seed import seed

    counts = asyncio.run(seed(url or database_url(settings), settings))
    log.info("demo data loaded: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))


def cmd_serve(settings: Settings, url: str | None = None) -> None:
    import uvicorn

    # Worker processes build the app from the environment: hand them the resolved URL.
    os.environ["DATABASE_URL"] = url or database_url(settings)
    uvicorn.run(
        "backend.asgi:app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        log_level=settings.log_level.lower(),
        access_log=settings.log_level == "DEBUG",
        server_header=False,
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
    )


def openapi_document(settings: Settings) -> str:
    """The OpenAPI document as JSON (stable key order), built without a database: the PWA's TypeScript
    types are generated from it (make api-types)."""
    import json

    from backend.app import create_app

    app = create_app(settings, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    return json.dumps(app.openapi_schema.to_schema(), ensure_ascii=False, indent=1, sort_keys=True)


WITH_ARGUMENTS = ("open311-client", "import", "export", "create-admin")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m backend", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command",
        choices=[
            "run",
            "serve",
            "migrate",
            "seed",
            "db-url",
            "db-stop",
            "open311-client",
            "openapi",
            "rekey-children",
            "import",
            "export",
            "create-admin",
        ],
    )
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.arguments and args.command not in WITH_ARGUMENTS:
        parser.error(f"{args.command} takes no arguments")
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "db-stop":
        print("stopped" if stop_embedded(settings.var_dir / "pg") else "not running")
    elif args.command == "open311-client":
        from backend.complaints.open311 import clients_command

        raise SystemExit(clients_command(settings, database_url(settings), args.arguments))
    elif args.command in ("import", "export", "create-admin"):
        from backend.imports import cli as imports_cli

        command = {
            "import": imports_cli.import_command,
            "export": imports_cli.export_command,
            "create-admin": imports_cli.create_admin_command,
        }[args.command]
        raise SystemExit(command(settings, database_url(settings), args.arguments))
    elif args.command == "rekey-children":
        from backend.families.rekey import run as rekey

        print(f"re-encrypted {asyncio.run(rekey(settings, database_url(settings)))} children's records")
    elif args.command == "openapi":
        print(openapi_document(settings))
    elif args.command == "db-url":
        print(database_url(settings))
    elif args.command == "migrate":
        cmd_migrate(settings)
    elif args.command == "seed":
        if settings.is_production:
            print("refusing to load demo data in production", file=sys.stderr)
            raise SystemExit(2)
        cmd_seed(settings)
    elif args.command == "serve":
        cmd_serve(settings)
    elif args.command == "run":
        url = cmd_migrate(settings)
        if settings.seed_demo:
            cmd_seed(settings, url)
        log.info(
            "serving on http://%s:%d (API docs at /schema, OpenAPI at /schema/openapi.json)",
            settings.host,
            settings.port,
        )
        cmd_serve(settings, url)
