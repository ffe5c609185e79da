"""Reading the audit log of officer actions (the log itself is written by ``backend.core.audit``)."""
