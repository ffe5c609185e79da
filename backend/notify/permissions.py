"""Declared rules of the notification routes: each person sees and acknowledges their own deliveries;
the service worker's acknowledgement carries a token instead of a session; city admins see counts."""

from backend.core.authz import SIGNED_IN, Role, action

ACK = action("notify.ack", "acknowledge a displayed notification (token from the push payload)", roles=None)
SEEN = action("notify.seen", "report that the open app showed an event", roles=SIGNED_IN)
CHANNELS = action("notify.channels", "see what can reach you (push devices, phone for SMS)", roles=SIGNED_IN)
LOG = action("notify.log", "see how your notifications were delivered", roles=SIGNED_IN)
LINK = action("notify.link", "open the link of an SMS sent to you", roles=SIGNED_IN)
STATS = action("notify.stats", "count deliveries per channel and day", roles={Role.CITY_ADMIN})
