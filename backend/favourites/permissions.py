"""Declared rules for favourites: any signed-in account keeps its own (no object of another's is named)."""

from backend.core.authz import Role, action

SIGNED_IN = frozenset(Role)

LIST = action("favourites.list", "list your favourite institutions", roles=SIGNED_IN)
ADD = action("favourites.add", "add an institution to your favourites", roles=SIGNED_IN)
REMOVE = action("favourites.remove", "remove an institution from your favourites", roles=SIGNED_IN)
