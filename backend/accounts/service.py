"""Signing in and out: SMS codes for parents, passwords for every account that has one."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Account, AuthSession, OtpCode, RoleGrant
from backend.accounts.schemas import AccountOut, GrantOut
from backend.accounts.sessions import create_session
from backend.accounts.sms import SmsSender
from backend.core import ratelimit, tx
from backend.core.authz import ROLE_LABELS_ZH, Role
from backend.core.config import Settings
from backend.core.errors import BadRequest, RuleViolation, Unauthenticated
from backend.core.security import check_password, constant_time_equal, new_otp_code, otp_digest

_PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
HOUR = 3600
PRIVILEGED_ROLES = (Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN, Role.OFFICER, Role.CITY_ADMIN)


def normalize_phone(raw: str) -> str:
    """11 digits from any form PHONE_INPUT_PATTERN admits (and nothing else)."""
    digits = re.sub(r"[ -]", "", raw)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not _PHONE_RE.match(digits):
        raise BadRequest("Not a mainland China mobile number", detail_zh="请输入正确的手机号码", code="invalid_phone")
    return digits


async def request_code(db: AsyncSession, settings: Settings, sms: SmsSender, raw_phone: str, client: str) -> None:
    """Send a sign-in code. The answer is the same whether or not the number has an account."""
    phone = normalize_phone(raw_phone)
    limited = {"detail_zh": "验证码发送过于频繁，请稍后再试", "code": "rate_limited"}
    await ratelimit.enforce(
        db,
        settings.secret_key,
        f"otp-client:{client}",
        limit=settings.otp_max_per_client_per_hour,
        window_s=HOUR,
        **limited,
    )
    await ratelimit.enforce(
        db, settings.secret_key, f"otp-resend:{phone}", limit=1, window_s=settings.otp_resend_seconds, **limited
    )
    await ratelimit.enforce(
        db,
        settings.secret_key,
        f"otp-phone:{phone}",
        limit=settings.otp_max_per_phone_per_hour,
        window_s=HOUR,
        **limited,
    )
    now = dt.datetime.now(dt.UTC)
    # A new code replaces any earlier one.
    await db.execute(
        update(OtpCode).where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None)).values(consumed_at=now)
    )
    code = new_otp_code()
    db.add(
        OtpCode(
            phone=phone,
            code_hash=otp_digest(settings.secret_key, phone, code),
            expires_at=now + dt.timedelta(seconds=settings.otp_ttl_seconds),
        )
    )
    await tx.commit_sign_in_step(db)
    await sms.send_sign_in_code(phone, code, settings.otp_ttl_seconds)


_WRONG_CODE = {
    "detail": "The code is wrong or has expired",
    "detail_zh": "验证码错误或已过期",
    "code": "invalid_code",
}


def _wrong_code() -> Unauthenticated:
    return Unauthenticated(**_WRONG_CODE)


async def verify_code(db: AsyncSession, settings: Settings, raw_phone: str, code: str, client: str) -> Account:
    """Check a sign-in code; sign the parent in, creating the account on first use."""
    phone = normalize_phone(raw_phone)
    await ratelimit.enforce(
        db,
        settings.secret_key,
        f"otp-verify-client:{client}",
        limit=settings.otp_max_per_client_per_hour * settings.otp_max_attempts,
        window_s=HOUR,
    )
    row = (
        await db.execute(
            select(OtpCode)
            .where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None), OtpCode.expires_at > dt.datetime.now(dt.UTC))
            .order_by(OtpCode.created_at.desc())
            .limit(1)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        await tx.commit_before_refusing(db)  # keep the attempt count
        raise _wrong_code()
    if not constant_time_equal(row.code_hash, otp_digest(settings.secret_key, phone, code)):
        row.attempts += 1
        if row.attempts >= settings.otp_max_attempts:
            row.consumed_at = dt.datetime.now(dt.UTC)
        await tx.commit_before_refusing(db)
        raise _wrong_code()
    row.consumed_at = dt.datetime.now(dt.UTC)

    account = (await db.execute(select(Account).where(Account.phone == phone).with_for_update())).scalar_one_or_none()
    if account is None:
        account = Account(id=uuid.uuid4(), phone=phone)
        db.add(account)
        await db.flush()
        db.add(RoleGrant(account_id=account.id, role=Role.PARENT))
        await db.flush()
    else:
        if account.disabled_at is not None:
            await tx.commit_before_refusing(db)
            raise _wrong_code()
        roles = await _roles(db, account.id)
        if any(r in PRIVILEGED_ROLES for r in roles):
            await tx.commit_before_refusing(db)  # the code is used up either way
            raise RuleViolation(
                "Staff and officer accounts sign in with their password",
                detail_zh="工作人员账号请使用密码登录",
                code="password_required",
            )
    return account


async def login(db: AsyncSession, settings: Settings, login_name: str, password: str, client: str) -> Account:
    """Password sign-in by phone or e-mail. Unknown account and wrong password answer alike."""
    login_name = login_name.strip()
    if "@" in login_name:
        key, where = login_name.lower(), Account.email == login_name.lower()
    else:
        try:
            key = normalize_phone(login_name)
        except BadRequest:
            key = login_name
        where = Account.phone == key
    limited = {"detail_zh": "登录失败次数过多，请稍后再试", "code": "rate_limited"}
    # Every attempt is counted before the password is checked (so parallel guesses cannot overtake
    # the limit) and a successful one is refunded: the limits count failures.
    counted = (
        (f"login-client:{client}", settings.login_max_failures_per_hour * 5),
        (f"login:{key}", settings.login_max_failures_per_hour),
    )
    for counter, limit in counted:
        await ratelimit.enforce(db, settings.secret_key, counter, limit=limit, window_s=HOUR, **limited)
    account = (await db.execute(select(Account).where(where))).scalar_one_or_none()
    # An unknown account still costs one argon2 verification (of a dummy hash): same answer, same work.
    ok = await check_password(account.password_hash if account else None, password)
    if not ok or account is None or account.disabled_at is not None:
        await tx.commit_before_refusing(db)  # keep the failure count
        raise Unauthenticated("Wrong login or password", detail_zh="账号或密码错误", code="invalid_credentials")
    for counter, _limit in counted:
        await ratelimit.refund(db, settings.secret_key, counter, window_s=HOUR)
    return account


async def start_session(db: AsyncSession, settings: Settings, account: Account) -> tuple[str, AuthSession]:
    return await create_session(db, settings, account.id)


async def _roles(db: AsyncSession, account_id: uuid.UUID) -> list[str]:
    return list((await db.execute(select(RoleGrant.role).where(RoleGrant.account_id == account_id))).scalars())


async def account_out(db: AsyncSession, account: Account) -> AccountOut:
    grants = (
        await db.execute(
            select(RoleGrant).where(RoleGrant.account_id == account.id).order_by(RoleGrant.role, RoleGrant.created_at)
        )
    ).scalars()
    return AccountOut(
        id=account.id,
        phone=account.phone,
        email=account.email,
        display_name=account.display_name,
        roles=[
            GrantOut(
                role=g.role,
                role_zh=ROLE_LABELS_ZH[Role(g.role)],
                institution_id=g.institution_id,
                department_code=g.department_code,
                unit_code=g.unit_code,
            )
            for g in grants
        ],
    )
