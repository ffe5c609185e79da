"""Declared rules for WeChat actions."""

from backend.core.authz import Role, action

SIGNED_IN = frozenset(Role)

STATUS = action("wechat.status", "see whether WeChat sign-in is available", roles=None)
AUTHORIZE = action("wechat.authorize", "start signing in with WeChat", roles=None)
CALLBACK = action("wechat.callback", "return from WeChat's authorisation", roles=None)
BIND = action("wechat.bind", "bind WeChat to a phone verified by SMS code", roles=None)
JSSDK_CONFIG = action("wechat.jssdk_config", "sign a page of the app for WeChat's JS-SDK", roles=None)
READ_MINE = action("wechat.read_mine", "see your own WeChat binding", roles=SIGNED_IN)
UNBIND = action("wechat.unbind", "unbind your WeChat", roles=SIGNED_IN)
SET_SUBSCRIPTIONS = action("wechat.set_subscriptions", "set or revoke your WeChat subscriptions", roles=SIGNED_IN)
