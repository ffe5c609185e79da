"""Every table's model, imported in one place so metadata (and Alembic) sees the whole schema."""


def import_all_models() -> None:
    import backend.accounts.models
    import backend.assessments.models
    import backend.blacklist.models
    import backend.bookings.models
    import backend.childhealth.models
    import backend.committees.models
    import backend.complaints.models
    import backend.core.audit
    import backend.core.idempotency
    import backend.core.outbox
    import backend.core.ratelimit
    import backend.enrolment.models
    import backend.families.models
    import backend.favourites.models
    import backend.files.models
    import backend.filing.models
    import backend.government.models
    import backend.guidance.models
    import backend.imports.models
    import backend.institutions.models
    import backend.notices.models
    import backend.notify.models
    import backend.realtime.models
    import backend.rooms.models
    import backend.staff.models
    import backend.wechat.models  # noqa: F401
