"""Declared rules for reference data: public."""

from backend.core.authz import action

LIST_UNITS = action("government.list_units", "list units", roles=None)
LIST_DEPARTMENTS = action("government.list_departments", "list departments", roles=None)
READ_CALENDAR = action("government.read_calendar", "read the working calendar", roles=None)
