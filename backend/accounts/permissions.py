"""Declared rules for account actions."""

from backend.core.authz import SIGNED_IN, action

REQUEST_CODE = action("auth.request_code", "request a sign-in code", roles=None)
VERIFY_CODE = action("auth.verify_code", "sign in with a code", roles=None)
LOGIN = action("auth.login", "sign in with a password", roles=None)
LOGOUT = action("auth.logout", "sign out", roles=SIGNED_IN)
LOGOUT_OTHERS = action("auth.logout_others", "sign out every other device", roles=SIGNED_IN)
READ_ME = action("accounts.read_me", "read your own account", roles=SIGNED_IN)
UPDATE_ME = action("accounts.update_me", "change your display name", roles=SIGNED_IN)
