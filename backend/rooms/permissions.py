"""Declared rules for mother-and-baby rooms.

* Anyone finds rooms (nearby, viewport, detail, GeoJSON) and reads visible ratings.
* City admins add rooms and name their managers; a room's managers (accounts of its managing
  body, ``room_managers``) and city admins edit and verify it and decide on suggested corrections.
* Any signed-in account rates (one rating per room, editable) and suggests corrections or new rooms;
  managers and city admins hide comments, with a reason.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true

from backend.core.authz import Principal, Role, action
from backend.rooms.models import Room, RoomManager

SIGNED_IN = set(Role)


def managed(p: Principal) -> ColumnElement[bool]:
    """Rooms ``p`` manages (all, for city admins)."""
    if p.is_city_admin:
        return true()
    return Room.id.in_(select(RoomManager.room_id).where(RoomManager.account_id == p.account_id))


FIND = action("rooms.find", "find mother-and-baby rooms", roles=None)
EXPORT = action("rooms.export", "export the map data as GeoJSON", roles=None)
CREATE = action("rooms.create", "add a mother-and-baby room", roles={Role.CITY_ADMIN})
MANAGERS = action("rooms.managers", "name a room's managers", roles={Role.CITY_ADMIN}, scope=managed)
EDIT = action("rooms.edit", "change a room's facts", roles=SIGNED_IN, scope=managed)
VERIFY = action("rooms.verify", "mark a room verified", roles=SIGNED_IN, scope=managed)
HISTORY = action("rooms.history", "see a room's history", roles=None)
RATE = action("rooms.rate", "rate a room", roles=SIGNED_IN)
READ_RATINGS = action("rooms.ratings", "read a room's ratings", roles=None)
MODERATE = action("rooms.moderate", "hide or show a comment", roles=SIGNED_IN, scope=managed)
SUGGEST = action("rooms.suggest", "suggest a correction or a new room", roles=SIGNED_IN)
LIST_SUGGESTIONS = action("rooms.suggestions", "see suggested corrections", roles=SIGNED_IN, scope=managed)
DECIDE = action("rooms.decide", "approve or reject a suggestion", roles=SIGNED_IN, scope=managed)
