"""Who is a current parent of an institution (or of one of its classes).

A guardian is a *current parent* of an institution while one of their children holds a place
there: an application that is ``accepted`` or ``enrolled``. Parent committees and notices build
on this one definition, always as SQL so list queries filter in the database.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, select

from backend.enrolment.models import Application, Status
from backend.families.models import Guardianship

PLACED = (Status.ACCEPTED.value, Status.ENROLLED.value)


def placed_guardians() -> Select[Any]:
    """Rows (account_id, institution_id, class_id, child_id) for every child holding a place."""
    return (
        select(Guardianship.account_id, Application.institution_id, Application.class_id, Application.child_id)
        .join(Application, Application.child_id == Guardianship.child_id)
        .where(Application.status.in_(PLACED))
    )


def is_current_parent(
    account_id: uuid.UUID | ColumnElement[Any],
    institution_id: uuid.UUID | ColumnElement[Any],
    class_id: uuid.UUID | ColumnElement[Any] | None = None,
) -> ColumnElement[bool]:
    """EXISTS: ``account_id`` is a guardian of a child placed at the institution (in the class)."""
    conds = [
        Guardianship.account_id == account_id,
        Application.child_id == Guardianship.child_id,
        Application.institution_id == institution_id,
        Application.status.in_(PLACED),
    ]
    if class_id is not None:
        conds.append(Application.class_id == class_id)
    return exists().where(and_(*conds))


def parent_accounts(institution_id: uuid.UUID, class_id: uuid.UUID | None = None) -> Select[Any]:
    """The distinct accounts that are current parents of the institution (or class)."""
    q = (
        select(Guardianship.account_id)
        .join(Application, Application.child_id == Guardianship.child_id)
        .where(Application.institution_id == institution_id, Application.status.in_(PLACED))
    )
    if class_id is not None:
        q = q.where(Application.class_id == class_id)
    return q.distinct()


def placed_institutions(account_id: uuid.UUID) -> Select[Any]:
    """The institutions where ``account_id`` is a current parent (an uncorrelated subquery)."""
    return (
        select(Application.institution_id)
        .join(Guardianship, Guardianship.child_id == Application.child_id)
        .where(Guardianship.account_id == account_id, Application.status.in_(PLACED))
    )


def placed_classes(account_id: uuid.UUID) -> Select[Any]:
    """The classes where ``account_id`` is a current parent (an uncorrelated subquery)."""
    return (
        select(Application.class_id)
        .join(Guardianship, Guardianship.child_id == Application.child_id)
        .where(Guardianship.account_id == account_id, Application.status.in_(PLACED))
    )
