"""Declared rules for children's records: only their guardians ever see or change them."""

from sqlalchemy import select

from backend.core.authz import Principal, Role, action
from backend.families.models import Child, Guardianship


def _own_children(p: Principal):
    return Child.id.in_(select(Guardianship.child_id).where(Guardianship.account_id == p.account_id))


LIST_CHILDREN = action("children.list", "list your children", roles={Role.PARENT}, scope=_own_children)
ADD_CHILD = action("children.create", "add a child", roles={Role.PARENT})
UPDATE_CHILD = action("children.update", "change a child's record", roles={Role.PARENT}, scope=_own_children)
REMOVE_CHILD = action("children.remove", "remove a child", roles={Role.PARENT}, scope=_own_children)
