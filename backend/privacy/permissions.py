"""Declared rules for a family's data rights: a parent acts on their own account only (no object scope:
the account is the caller's)."""

from backend.core.authz import Role, action

EXPORT = action("privacy.export", "download everything the platform holds about your family", roles={Role.PARENT})
ERASE = action("privacy.erase", "erase your family's data and your account", roles={Role.PARENT})
