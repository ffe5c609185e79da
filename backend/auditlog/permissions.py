"""Declared rules for the audit log: only city admins read it."""

from backend.core.authz import Role, action

READ = action("audit.read", "read the audit log of officer actions", roles={Role.CITY_ADMIN})
