"""Key rotation covers the health records: ``rekey-children`` rewrites them under the first key."""

from __future__ import annotations

import base64
import json
import os
import uuid

from sqlalchemy import select, text

from backend.childhealth.models import GrowthMeasurement
from backend.core import crypto
from backend.core.authz import Role
from backend.core.clock import local_today
from backend.core.crypto import ChildDataKeys
from backend.families.rekey import HEALTH_TABLES, health_table, rekey_batch


def _entry(key_id: int) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


async def test_rekey_rewrites_growth_readings(factory, db, conn):
    old, new = _entry(1), _entry(2)
    parent = await factory.account(Role.PARENT)
    with crypto.using(ChildDataKeys.parse(old)):
        child = await factory.child(parent)
        m = GrowthMeasurement(
            id=uuid.uuid4(),
            child_id=child.id,
            measured_on=local_today(),
            readings=json.dumps({"weight_kg": 9.9, "length_cm": None, "head_cm": None}),
        )
        db.add(m)
        await db.commit()
    rotated = ChildDataKeys.parse(f"{new},{old}")
    spec = next(s for s in HEALTH_TABLES if s[0] == "growth_measurements")
    raw, labels = health_table(*spec)
    with crypto.using(rotated):
        done, last = await rekey_batch(
            conn, rotated, uuid.UUID(int=0), raw=raw, labels=labels, key=spec[1], only=[m.id]
        )
        assert done == 1 and last == m.id
        blob = await db.scalar(text("SELECT readings FROM growth_measurements WHERE id = :i"), {"i": m.id})
        assert bytes(blob)[1] == 2
        db.expunge_all()
        readings = await db.scalar(select(GrowthMeasurement.readings).where(GrowthMeasurement.id == m.id))
        assert json.loads(readings)["weight_kg"] == 9.9
