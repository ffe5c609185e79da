"""Command line for imports, exports and the first city admin.

``python -m backend import institutions|rooms|population FILE --crs gcj02 [--dry-run] [--report OUT]``
    checks the file (dry run) and, unless ``--dry-run`` or the file has errors, applies it in the same
    transaction. Prints the counts and the problems; ``--report`` writes the annotated spreadsheet.
    Exit status: 0 applied (or clean dry run), 1 the file has errors (nothing written but the
    history row), 2 the file cannot be read.
``python -m backend export institutions|rooms|population FILE [--crs wgs84]``
    writes the register as xlsx or CSV (by FILE's extension) with the import's own headers.
``python -m backend create-admin --email … --phone … [--name …] [--force]``
    creates the first city admin. The password is read from ADMIN_PASSWORD, or asked for on a
    terminal, or generated and printed once. Refuses when a city admin exists, unless ``--force``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import secrets
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from backend.core.config import Settings
from backend.core.db import create_engine
from backend.core.errors import AppError
from backend.core.tx import commit_outside_request
from backend.imports.crs import Crs
from backend.imports.tables import FileFormat

KIND_CHOICES = ("institutions", "rooms", "population")


def import_command(settings: Settings, url: str, argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend import", description="import a register from xlsx/CSV")
    parser.add_argument("kind", choices=KIND_CHOICES)
    parser.add_argument("file", type=Path)
    parser.add_argument("--crs", choices=[c.value for c in Crs], required=True, help="the file's coordinate system")
    parser.add_argument("--dry-run", action="store_true", help="check and report only")
    parser.add_argument("--report", type=Path, help="write the annotated spreadsheet (问题 column) here")
    args = parser.parse_args(list(argv))
    try:
        content = args.file.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_import(settings, url, args, content))


async def _import(settings: Settings, url: str, args: argparse.Namespace, content: bytes) -> int:
    from backend.imports import service
    from backend.models import import_all_models

    import_all_models()
    engine = create_engine(settings, url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            # Lock, check and apply in one transaction: the apply uses this check (nothing can change
            # in between); a dry run or a file with errors commits only its history row.
            await service.lock(db, args.kind)
            try:
                run, report = await service.dry_run_with_report(
                    db, settings, kind=args.kind, content=content, filename=args.file.name,
                    crs=Crs(args.crs), actor=None, via="cli",
                )  # fmt: skip
            except AppError as exc:
                print(f"error: {exc.detail_zh} ({exc.code})", file=sys.stderr)
                return 2
            _print_report(run)
            if args.report:
                args.report.write_bytes(service.annotated_report(run))
                print(f"report written to {args.report}")
            if run.error_count or args.dry_run:
                await commit_outside_request(db)
                if run.error_count:
                    print(f"{run.error_count} error(s): nothing imported / 有错误，未导入", file=sys.stderr)
                    return 1
                print(f"dry run {run.id}: nothing written")
                return 0
            run = await service.apply(db, settings, run.id, None, checked=report)
            await commit_outside_request(db)
            counts = run.counts
            print(
                f"applied {run.id}: created {counts.get('create', 0)}, updated {counts.get('update', 0)}, "
                f"unchanged {counts.get('unchanged', 0)}"
            )
            return 0
    finally:
        await engine.dispose()


def _print_report(run: object) -> None:
    counts = run.counts  # type: ignore[attr-defined]
    print(
        f"{run.kind}: {run.row_count} rows; would create {counts.get('create', 0)}, "  # type: ignore[attr-defined]
        f"update {counts.get('update', 0)}, leave {counts.get('unchanged', 0)} unchanged; "
        f"{run.error_count} errors, {run.warning_count} warnings"  # type: ignore[attr-defined]
    )
    for p in run.problems[:200]:  # type: ignore[attr-defined]
        print(f"  row {p['row']}: {'ERROR' if p['level'] == 'error' else 'warning'} {p['code']}: {p['message']}")
    if len(run.problems) > 200:  # type: ignore[attr-defined]
        print(f"  … and {len(run.problems) - 200} more (see --report)")  # type: ignore[attr-defined]


def export_command(settings: Settings, url: str, argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend export", description="export a register to xlsx/CSV")
    parser.add_argument("kind", choices=KIND_CHOICES)
    parser.add_argument("file", type=Path, help="*.xlsx or *.csv")
    parser.add_argument("--crs", choices=[c.value for c in Crs], default="wgs84")
    args = parser.parse_args(list(argv))
    fmt = FileFormat.CSV if args.file.suffix.lower() == ".csv" else FileFormat.XLSX
    return asyncio.run(_export(settings, url, args.kind, args.file, fmt, Crs(args.crs)))


async def _export(settings: Settings, url: str, kind: str, path: Path, fmt: FileFormat, crs: Crs) -> int:
    from backend.imports import service
    from backend.models import import_all_models

    import_all_models()
    engine = create_engine(settings, url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            content = await service.export(db, kind, fmt, crs)
        path.write_bytes(content)  # noqa: ASYNC240 - a CLI, nothing else runs on this loop
        print(f"exported {kind} to {path}")
        return 0
    finally:
        await engine.dispose()


def create_admin_command(settings: Settings, url: str, argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend create-admin", description="create the first city admin")
    parser.add_argument("--email", required=True)
    parser.add_argument("--phone", required=True)
    parser.add_argument("--name", default="市级管理员")
    parser.add_argument("--force", action="store_true", help="create one even if a city admin exists")
    args = parser.parse_args(list(argv))
    email = args.email.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 254:
        parser.error("--email is not an e-mail address")
    if not re.fullmatch(r"1[3-9][0-9]{9}", args.phone):
        parser.error("--phone must be a mainland mobile number (11 digits)")
    password = os.environ.get("ADMIN_PASSWORD") or ""
    generated = False
    if not password and sys.stdin.isatty():
        password = getpass.getpass("Password (empty: generate one): ")
        if password and password != getpass.getpass("Repeat: "):
            print("passwords differ", file=sys.stderr)
            return 2
    if not password:
        password, generated = secrets.token_urlsafe(15), True
    if len(password) < 12:
        print("the password must have at least 12 characters", file=sys.stderr)
        return 2
    code = asyncio.run(_create_admin(settings, url, email, args.phone, args.name[:40], password, args.force))
    if code == 0 and generated:
        print(f"password {password}")
        print("The password is shown only this once. 此密码仅显示一次，请妥善保存并尽快修改。", file=sys.stderr)
    return code


async def _create_admin(
    settings: Settings, url: str, email: str, phone: str, name: str, password: str, force: bool
) -> int:
    from backend.accounts.models import Account, RoleGrant
    from backend.core.authz import Role
    from backend.core.security import hash_password
    from backend.models import import_all_models

    import_all_models()
    engine = create_engine(settings, url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            existing = await db.scalar(select(RoleGrant.id).where(RoleGrant.role == Role.CITY_ADMIN.value).limit(1))
            if existing is not None and not force:
                print("a city admin exists already (use --force to add another)", file=sys.stderr)
                return 3
            taken = await db.scalar(select(Account.id).where((Account.email == email) | (Account.phone == phone)))
            if taken is not None:
                print("an account with this e-mail or phone exists already", file=sys.stderr)
                return 3
            account = Account(id=uuid.uuid4(), email=email, phone=phone, display_name=name,
                              password_hash=hash_password(password))  # fmt: skip
            db.add(account)
            await db.flush()
            db.add(RoleGrant(account_id=account.id, role=Role.CITY_ADMIN.value))
            await commit_outside_request(db)
            print(f"city admin {account.id} created ({email})")
            return 0
    finally:
        await engine.dispose()
