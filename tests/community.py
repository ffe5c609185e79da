"""One institution's community for committee and notice tests: staff, parents in two classes, a
committee member, a former parent, and outsiders (a parent and a staff member of another institution)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from backend.accounts.models import Account
from backend.committees.models import CommitteeMember
from backend.core.authz import Role
from backend.core.clock import local_today
from backend.institutions.models import CareClass
from tests.factories import Factory


@dataclass
class Person:
    account: Account
    headers: dict[str, str]

    @property
    def id(self) -> uuid.UUID:
        return self.account.id


@dataclass
class Community:
    inst: Any
    class_a: uuid.UUID
    class_b: uuid.UUID
    staff: Person
    admin: Person
    parent_a: Person  # child enrolled in class A
    parent_b: Person  # child accepted into class B
    member: Person  # committee member, child enrolled in class A
    former: Person  # child's place ended
    other_parent: Person  # child enrolled at another institution
    other_staff: Person
    city_admin: Person

    def everyone_outside(self) -> dict[str, dict[str, str]]:
        return {
            "former parent": self.former.headers,
            "parent elsewhere": self.other_parent.headers,
            "staff elsewhere": self.other_staff.headers,
            "city admin": self.city_admin.headers,
        }


async def person(factory: Factory, role: Role = Role.PARENT, **kw: Any) -> Person:
    account, headers = await factory.signed_in(role, **kw)
    return Person(account, headers)


async def build_community(factory: Factory) -> Community:
    inst = await factory.institution(classes=[("toddler", 15, 3, 0), ("toddler", 15, 3, 0)])
    class_a, class_b = (
        await factory.db.scalars(
            select(CareClass.id).where(CareClass.institution_id == inst.id).order_by(CareClass.name)
        )
    ).all()
    other = await factory.institution()
    other_class = await factory.db.scalar(select(CareClass.id).where(CareClass.institution_id == other.id))

    staff = await person(factory, Role.INSTITUTION_STAFF, institution_id=inst.id)
    admin = await person(factory, Role.INSTITUTION_ADMIN, institution_id=inst.id)
    parent_a, parent_b, member, former, other_parent = [await person(factory) for _ in range(5)]
    await factory.placed_child(parent_a.account, inst.id, class_a)
    await factory.placed_child(parent_b.account, inst.id, class_b, status="accepted")
    await factory.placed_child(member.account, inst.id, class_a)
    await factory.placed_child(former.account, inst.id, class_a, status="ended")
    await factory.placed_child(other_parent.account, other.id, other_class)
    today = local_today()
    factory.db.add(
        CommitteeMember(
            institution_id=inst.id,
            account_id=member.id,
            role="chair",
            source="appointed",
            term_start=today - dt.timedelta(days=30),
            term_end=today + dt.timedelta(days=335),
            created_by=admin.id,
        )
    )
    await factory.db.commit()
    return Community(
        inst=inst,
        class_a=class_a,
        class_b=class_b,
        staff=staff,
        admin=admin,
        parent_a=parent_a,
        parent_b=parent_b,
        member=member,
        former=former,
        other_parent=other_parent,
        other_staff=await person(factory, Role.INSTITUTION_STAFF, institution_id=other.id),
        city_admin=await person(factory, Role.CITY_ADMIN),
    )
