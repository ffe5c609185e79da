"""Sign-in (SMS code or password), sign-out and the caller's own account."""

from __future__ import annotations

from litestar import Controller, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Tag
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts import permissions as P
from backend.accounts import service
from backend.accounts.models import Account
from backend.accounts.schemas import (
    AccountOut,
    LoggedOut,
    LoginRequest,
    MePatch,
    OthersLoggedOut,
    OtpRequest,
    OtpRequested,
    OtpVerify,
    SessionOut,
)
from backend.accounts.sessions import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    revoke_other_sessions,
    revoke_session,
    session_cookies,
)
from backend.core.authz import requires
from backend.core.config import Settings
from backend.core.deps import CallerDep, Db, client_address
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.core.security import csrf_token


async def session_response(
    db: AsyncSession, settings: Settings, account: Account, status_code: int = 200
) -> Response[SessionOut]:
    token, session = await service.start_session(db, settings, account)
    await db.commit()
    csrf = csrf_token(settings.secret_key, str(session.id))
    body = SessionOut(
        token=token, expires_at=session.expires_at, csrf_token=csrf, account=await service.account_out(db, account)
    )
    return Response(
        body,
        status_code=status_code,
        cookies=session_cookies(settings, token, session),
        headers={"Cache-Control": "no-store"},
    )


class AuthController(Controller):
    path = "/api/auth"
    tags = ["accounts · 账号"]
    dependencies = {"client": Provide(client_address, sync_to_thread=False)}

    @post(
        "/code",
        status_code=HTTP_202_ACCEPTED,
        opt=requires(P.REQUEST_CODE),
        responses=error_responses(400, 429),
        summary="Send a sign-in code by SMS / 发送短信验证码",
    )
    async def request_code(
        self, db: Db, state: State, data: JSONBody[OtpRequest], client: NamedDependency[str]
    ) -> OtpRequested:
        """The answer is the same whether or not the number has an account."""
        settings: Settings = state.settings
        await service.request_code(db, settings, state.sms, data.phone, client)
        return OtpRequested(resend_after_s=settings.otp_resend_seconds, expires_in_s=settings.otp_ttl_seconds)

    @post(
        "/code/verify",
        status_code=200,
        opt=requires(P.VERIFY_CODE),
        responses=error_responses(400, 401, 422, 429),
        summary="Sign in with the SMS code / 验证码登录",
    )
    async def verify_code(
        self, db: Db, state: State, data: JSONBody[OtpVerify], client: NamedDependency[str]
    ) -> Response[SessionOut]:
        """Parents sign in (and sign up on first use) with their phone. Sets the session cookie too."""
        account = await service.verify_code(db, state.settings, data.phone, data.code, client)
        return await session_response(db, state.settings, account)

    @post(
        "/login",
        status_code=200,
        opt=requires(P.LOGIN),
        responses=error_responses(401, 429),
        summary="Sign in with a password / 密码登录",
    )
    async def login(
        self, db: Db, state: State, data: JSONBody[LoginRequest], client: NamedDependency[str]
    ) -> Response[SessionOut]:
        """For any account with a password (staff, officers, administrators, demo accounts)."""
        account = await service.login(db, state.settings, data.login, data.password, client)
        return await session_response(db, state.settings, account)

    @post(
        "/logout",
        opt=requires(P.LOGOUT),
        responses=error_responses(401, 403),
        summary="Sign out this device / 退出登录",
    )
    async def logout(self, db: Db, caller: CallerDep) -> Response[LoggedOut]:
        await revoke_session(db, caller.principal.session_id)
        await db.commit()
        response = Response(LoggedOut())
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    @post(
        "/logout/others",
        status_code=200,
        opt=requires(P.LOGOUT_OTHERS),
        responses=error_responses(401, 403),
        summary="Sign out every other device / 退出其他设备",
    )
    async def logout_others(self, db: Db, caller: CallerDep) -> OthersLoggedOut:
        """Ends every other session of this account at once: their next request answers 401 and their
        live connections close within a second. This device stays signed in."""
        revoked = await revoke_other_sessions(db, caller.account_id, keep=caller.principal.session_id)
        await db.commit()
        return OthersLoggedOut(revoked=revoked)


class MeController(Controller):
    path = "/api/me"
    tags = ["accounts · 账号"]

    @get("/", opt=requires(P.READ_ME), responses=error_responses(401, 403), summary="My account / 我的账号")
    async def me(self, db: Db, caller: CallerDep) -> AccountOut:
        account = (await db.execute(select(Account).where(Account.id == caller.account_id))).scalar_one()
        return await service.account_out(db, account)

    @patch(
        "/", opt=requires(P.UPDATE_ME), responses=error_responses(401, 403), summary="Change my display name / 修改昵称"
    )
    async def update_me(self, db: Db, caller: CallerDep, data: JSONBody[MePatch]) -> AccountOut:
        account = (await db.execute(select(Account).where(Account.id == caller.account_id))).scalar_one()
        account.display_name = (data.display_name or "").strip() or None
        await db.commit()
        return await service.account_out(db, account)


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [AuthController, MeController],
    tags=[Tag(name="accounts · 账号", description="Sign-in and the caller's account")],
)
