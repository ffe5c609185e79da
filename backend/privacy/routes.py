"""``GET /api/me/export`` and ``POST /api/me/erase``: a family's copy of its data, and its erasure."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import JSONBody
from sqlalchemy import select

from backend.accounts.models import Account
from backend.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE
from backend.core import audit
from backend.core.authz import Principal, requires
from backend.core.clock import local_today
from backend.core.deps import CallerDep, Db, client_address
from backend.core.domains import Domain
from backend.core.errors import error_responses
from backend.privacy import permissions as P
from backend.privacy import retention, service  # noqa: F401  (retention registers its periodic jobs)
from backend.privacy.schemas import EraseIn, ErasureOut, FamilyExport


class PrivacyController(Controller):
    path = "/api/me"
    tags = ["accounts · 账号"]

    @get(
        "/export",
        opt=requires(P.EXPORT),
        responses=error_responses(401, 403),
        summary="Download my family's data / 导出我的数据",
    )
    async def export(self, db: Db, caller: CallerDep) -> Response[FamilyExport]:
        """Everything the platform holds about you and your children, as one JSON document (children's
        names and birth dates in clear). Sent as an attachment and never cached."""
        body = await service.export(db, caller.principal)
        return Response(
            body,
            headers={
                "Content-Disposition": f'attachment; filename="daqing-my-data-{local_today():%Y%m%d}.json"',
                "Cache-Control": "no-store",
            },
        )

    @post(
        "/erase",
        opt=requires(P.ERASE),
        responses=error_responses(400, 401, 403, 409, 422, 429),
        status_code=200,
        summary="Erase my family's data and my account / 删除我的数据并注销账号",
    )
    async def erase(
        self, db: Db, state: State, request: Request[Principal, Any, Any], caller: CallerDep, data: JSONBody[EraseIn]
    ) -> Response[ErasureOut]:
        """Confirm with your password or a fresh SMS code. In one transaction: live applications are
        withdrawn and future bookings and guidance registrations cancelled (places go back, institutions
        are told), children of whom you are the only guardian are deleted, your links to other children
        removed, complaints you filed kept for the officers but detached from you, your devices signed
        out and your account reduced to an empty tombstone. If any step fails, nothing changes."""
        account = (await db.execute(select(Account).where(Account.id == caller.account_id))).scalar_one()
        await service.confirm(db, state.settings, account, data.password, data.code, client_address(request))
        # The erasure itself is recorded in the audit log (rows changed, never values).
        audit.mark(db, caller.principal, action=P.ERASE.name, method="POST", path=request.url.path, always=True)
        out = await service.erase(db, state.settings, caller.principal)
        await db.commit()
        response = Response(out, headers={"Cache-Control": "no-store"})
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response


# What this domain gives the app (backend/app.py assembles every domain's).
DOMAIN = Domain(
    handlers=lambda _settings: [PrivacyController],
)
