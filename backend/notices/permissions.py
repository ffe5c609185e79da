"""Declared rules for notices, read receipts and consultations.

Who sees a notice (``notices.read``; everything else builds on it):

* staff and admins of its institution — every notice, also scheduled, expired and deleted ones;
* a *current parent* of the institution (a guardian of a child with an accepted or enrolled place)
  — published, unexpired, undeleted notices addressed to the whole institution, to their child's
  class, or (if they sit on the committee) to the committee;
* a sitting committee member — also their own committee notices before they are published.

Anyone else (parents elsewhere, former parents, other institutions' staff, officers, city admins,
the anonymous) gets 404, as if the notice did not exist.

Writing: institution staff post as staff to any audience; sitting committee members post as the
committee to all parents or to the committee. Authors edit their own notices while they still hold
that right; authors and institution admins delete. Read counts, the not-read list and consultation
results are for the institution's staff and for sitting committee members who can see the notice.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, func, or_

from backend.committees.permissions import sitting_institutions
from backend.core.authz import Principal, Role, action
from backend.enrolment.links import placed_classes, placed_institutions
from backend.institutions.models import Institution
from backend.notices.models import Notice

# Any signed-in account may *ask* for a notice; the scope decides, and outsiders get 404 whatever
# their role (the anonymous get 401).
READERS = set(Role)
WRITERS = {Role.PARENT, Role.INSTITUTION_STAFF, Role.INSTITUTION_ADMIN}


def _staff_of_notice(p: Principal) -> ColumnElement[bool]:
    institutions = p.institutions()
    return Notice.institution_id.in_(institutions) if institutions else false()


def live() -> ColumnElement[bool]:
    """Published, not deleted, not expired."""
    return and_(
        Notice.published_at.is_not(None),
        Notice.deleted_at.is_(None),
        or_(Notice.expires_at.is_(None), Notice.expires_at > func.now()),
    )


def addressed_to_parent(p: Principal) -> ColumnElement[bool]:
    """The notice's audience includes ``p`` as a parent (or committee member). Uncorrelated
    subqueries: the feed reads only the caller's institutions (through ``ix_notices_feed``)."""
    if not p.has_role(Role.PARENT):
        return false()
    return and_(
        Notice.institution_id.in_(placed_institutions(p.account_id)),
        or_(
            Notice.audience == "institution",
            and_(Notice.audience == "class", Notice.class_id.in_(placed_classes(p.account_id))),
            and_(Notice.audience == "committee", Notice.institution_id.in_(sitting_institutions(p.account_id))),
        ),
    )


def _own_committee_draft(p: Principal) -> ColumnElement[bool]:
    if not p.has_role(Role.PARENT):
        return false()
    return and_(
        Notice.posted_as == "committee",
        Notice.author_id == p.account_id,
        Notice.deleted_at.is_(None),
        Notice.institution_id.in_(sitting_institutions(p.account_id)),
    )


def _sees(p: Principal) -> ColumnElement[bool]:
    return or_(_staff_of_notice(p), and_(live(), addressed_to_parent(p)), _own_committee_draft(p))


def _parent_sees(p: Principal) -> ColumnElement[bool]:
    return and_(live(), addressed_to_parent(p))


def _oversees(p: Principal) -> ColumnElement[bool]:
    """Staff of the institution, or a sitting committee member who can see the notice."""
    committee = (
        and_(
            Notice.institution_id.in_(sitting_institutions(p.account_id)), or_(_parent_sees(p), _own_committee_draft(p))
        )
        if p.has_role(Role.PARENT)
        else false()
    )
    return or_(_staff_of_notice(p), committee)


def _may_post_at(p: Principal) -> ColumnElement[bool]:
    staff = Institution.id.in_(p.institutions()) if p.institutions() else false()
    committee = Institution.id.in_(sitting_institutions(p.account_id)) if p.has_role(Role.PARENT) else false()
    return or_(staff, committee)


def _author_still_entitled(p: Principal) -> ColumnElement[bool]:
    staff = and_(Notice.posted_as == "staff", _staff_of_notice(p))
    committee = (
        and_(Notice.posted_as == "committee", Notice.institution_id.in_(sitting_institutions(p.account_id)))
        if p.has_role(Role.PARENT)
        else false()
    )
    return and_(Notice.author_id == p.account_id, Notice.deleted_at.is_(None), or_(staff, committee))


def _may_delete(p: Principal) -> ColumnElement[bool]:
    admins = p.institutions(Role.INSTITUTION_ADMIN)
    admin = and_(Notice.institution_id.in_(admins), Notice.deleted_at.is_(None)) if admins else false()
    return or_(_author_still_entitled(p), admin)


READ = action("notices.read", "read a notice", roles=READERS, scope=_sees)
LIST = action("notices.list", "list an institution's notices", roles=READERS, scope=_sees)
FEED = action("notices.feed", "read your notices", roles={Role.PARENT}, scope=_parent_sees)
UNREAD = action("notices.unread", "count your unread notices", roles={Role.PARENT}, scope=_parent_sees)
MARK_READ = action("notices.mark_read", "mark a notice read", roles={Role.PARENT}, scope=_parent_sees)
CREATE = action("notices.create", "post a notice", roles=WRITERS, scope=_may_post_at)
EDIT = action("notices.edit", "edit a notice", roles=WRITERS, scope=_author_still_entitled)
DELETE = action("notices.delete", "delete a notice", roles=WRITERS, scope=_may_delete)
REVISIONS = action("notices.revisions", "see a notice's edit history", roles=WRITERS, scope=_oversees)
RECEIPTS = action("notices.receipts", "see who has read a notice", roles=WRITERS, scope=_oversees)
ANSWER = action("consultations.answer", "answer a consultation", roles={Role.PARENT}, scope=_parent_sees)
RESULTS = action("consultations.results", "see a consultation's results", roles=WRITERS, scope=_oversees)
ATTACHMENT = action("notices.attachment", "see a notice's image", roles=READERS, scope=_sees)
