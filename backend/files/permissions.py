"""Declared rules for uploads: any signed-in account may upload; what it may attach its uploads to
is decided by the domain it attaches them in (``service.attach`` only checks ownership)."""

from backend.accounts.permissions import SIGNED_IN
from backend.core.authz import action

UPLOAD = action("uploads.create", "upload a file", roles=SIGNED_IN)
