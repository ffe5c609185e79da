"""Declared rules for uploads: any signed-in account may upload; what it may attach its uploads to
is decided by the domain it attaches them in (``service.attach`` only checks ownership). A signed
file link (``LocalStorage``'s presigned URL) is open to anyone: the token in it is the permission,
granted by the domain that made it."""

from backend.core.authz import SIGNED_IN, action

UPLOAD = action("uploads.create", "upload a file", roles=SIGNED_IN)
SIGNED_READ = action("files.signed_read", "open a signed file link", roles=None)
