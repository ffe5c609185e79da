"""Declared rules for live updates: every signed-in account manages its own devices and preferences."""

from backend.core.authz import SIGNED_IN, action

TICKET = action("realtime.ticket", "get a WebSocket ticket", roles=SIGNED_IN)
VAPID_KEY = action("push.vapid_key", "read the Web Push public key", roles=None)
SUBSCRIBE = action("push.subscribe", "subscribe a device to push notifications", roles=SIGNED_IN)
LIST_SUBSCRIPTIONS = action("push.list", "list your push subscriptions", roles=SIGNED_IN)
UNSUBSCRIBE = action("push.unsubscribe", "unsubscribe a device", roles=SIGNED_IN)
READ_PREFERENCES = action("notifications.read_preferences", "read your notification settings", roles=SIGNED_IN)
SET_PREFERENCES = action("notifications.set_preferences", "change your notification settings", roles=SIGNED_IN)
