"""The load scenario's users (locust, gevent). Run by bench/load/run.py, which prepares the data.

* ``Parent`` — nearby search → institution detail → a day's slots → book hourly (1-2 h) or temporary
  (3-4 h) care → list own bookings → cancel (so places come back and each booking makes two events).
* ``Staff`` — the desk: enrolment desk, application queue, the day's bookings, notices, one class's
  application list.
* ``Listener`` — a device with the app open: a WebSocket ticket over HTTP, then ``/ws``, read until the
  run ends. The connection (until the server's ``ready``) and every event message (from the event's
  ``at``, when it was written, to its receipt) are locust requests of type ``WS``. A staff listener
  hears the bookings at its institution, a parent's the bookings of its own child. A socket the server
  closes is a failure; the listener then reconnects with the PWA's backoff and resumes.
* ``HealthProbe`` — one user, ``GET /health`` once a second (a baseline inside the run).

Environment (set by run.py): LOAD_PLAN (the JSON plan: institutions, days, sessions), LOAD_REPORT (where the
listeners' record is written at exit), LOAD_PARENTS / LOAD_STAFF / LOAD_LISTENERS (how many of each),
LOAD_PARENT_WAIT / LOAD_STAFF_WAIT ("min,max" think time in seconds), LOAD_QUIET_S (parents book nothing in
the run's last seconds, so every event is delivered before the listeners stop).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import time
import uuid
from typing import Any

import websocket  # websocket-client: plain sockets, which locust's gevent monkey-patching makes cooperative
from locust import FastHttpUser, between, constant, events, task

_plan: dict[str, Any] | None = None


def plan() -> dict[str, Any]:
    global _plan
    if _plan is None:
        _plan = json.loads(open(os.environ["LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
        for mode in ("hourly", "temporary"):
            _plan[mode] = {i["id"] for i in _plan["institutions"] if mode in i["modes"]}
    return _plan


def _count(name: str) -> int:
    return int(os.environ.get(name, "0"))


def _wait(name: str, default: str) -> Any:
    low, high = (float(x) for x in os.environ.get(name, default).split(","))
    return between(low, high)


RUN: dict[str, Any] = {"started": time.monotonic(), "run_time": None, "stopped_at": None}
LISTENERS: list[dict[str, Any]] = []
SUMMARY = {"connected": 0, "closed": 0}
WRITES = {"booked": 0, "cancelled": 0}
REASON = "计划有变 Plans changed (load test)"


@events.test_start.add_listener
def _started(environment: Any, **_: Any) -> None:
    RUN["started"] = time.monotonic()
    options = environment.parsed_options
    RUN["run_time"] = getattr(options, "run_time", None) if options else None


@events.test_stopping.add_listener
def _stopping(**_: Any) -> None:
    RUN["stopped_at"] = time.time()


@events.quitting.add_listener
def _write_report(**_: Any) -> None:
    path = os.environ.get("LOAD_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "listeners": LISTENERS,
                    "summary": SUMMARY,
                    "writes": WRITES,
                    "stopped_at": RUN["stopped_at"] or time.time(),
                },
                f,
            )


_free: dict[str, list[dict[str, Any]]] = {}


def _take(kind: str) -> dict[str, Any]:
    """An account of ``kind`` no running user holds (locust may start a user again after one stopped)."""
    if kind not in _free:
        _free[kind] = list(reversed(plan()[kind]))
    if not _free[kind]:
        raise RuntimeError(f"more {kind} users than prepared accounts")
    return _free[kind].pop()


def _give_back(kind: str, spec: dict[str, Any]) -> None:
    _free[kind].append(spec)


def writes_allowed() -> bool:
    if not RUN["run_time"]:
        return True
    return time.monotonic() < RUN["started"] + RUN["run_time"] - float(os.environ.get("LOAD_QUIET_S", "8"))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _runs(slots: list[dict[str, Any]], length: int) -> list[tuple[str, str]]:
    """(start, end) of every ``length`` consecutive slots that all have a free place."""
    free = sorted((s for s in slots if s["free"] > 0), key=lambda s: s["start"])
    out = []
    for n in range(len(free) - length + 1):
        window = free[n : n + length]
        if all(a["end"] == b["start"] for a, b in itertools.pairwise(window)):
            out.append((window[0]["start"], window[-1]["end"]))
    return out


class Parent(FastHttpUser):
    fixed_count = _count("LOAD_PARENTS")
    wait_time = _wait("LOAD_PARENT_WAIT", "1,3")

    def on_start(self) -> None:
        self.me = _take("parents")
        self.headers = _bearer(self.me["token"])
        # A booking left by an earlier run (stopped between booking and cancelling) would overlap.
        for booking in self._mine() or []:
            if booking["status"] == "booked":
                self._cancel(booking["id"])

    def on_stop(self) -> None:
        _give_back("parents", self.me)

    def _mine(self) -> list[dict[str, Any]] | None:
        with self.client.get(
            "/api/bookings", headers=self.headers, name="/api/bookings (mine)", catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return None
            return r.json()

    def _cancel(self, booking_id: str) -> None:
        with self.client.post(
            f"/api/bookings/{booking_id}/cancel",
            json={"reason": REASON},
            headers=self.headers,
            name="/api/bookings/{id}/cancel",
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")
            else:
                WRITES["cancelled"] += 1

    @task
    def search_and_book(self) -> None:
        p = plan()
        mode = "temporary" if random.random() < 0.25 and p["temporary"] else "hourly"
        target = random.choice([i for i in p["institutions"] if i["id"] in p[mode]])
        lat, lng = target["lat"] + random.uniform(-0.02, 0.02), target["lng"] + random.uniform(-0.02, 0.02)
        with self.client.get(
            f"/api/institutions/nearby?lat={lat:.6f}&lng={lng:.6f}&radius_m=5000&mode={mode}&filed=true",
            name="/api/institutions/nearby",
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return
            found = [item["id"] for item in r.json()["items"] if item["id"] in p[mode]]
        institution = random.choice(found[:3]) if found else target["id"]
        self.wait()
        with self.client.get(
            f"/api/institutions/{institution}", name="/api/institutions/{id}", catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return
            if r.json()["blacklisted"]:
                return
        self.wait()
        chosen = None
        for day in random.sample(p["days"], 3):
            with self.client.get(
                f"/api/institutions/{institution}/slots?day={day}&band={self.me['band']}",
                name="/api/institutions/{id}/slots",
                catch_response=True,
            ) as r:
                if r.status_code != 200:
                    r.failure(f"{r.status_code}: {r.text[:200]}")
                    return
                runs = _runs(r.json()["slots"], random.choice([1, 2]) if mode == "hourly" else random.choice([3, 4]))
            if runs:
                chosen = (day, *random.choice(runs))
                break
        if chosen is None or not writes_allowed():
            return
        self.wait()
        day, start, end = chosen
        body = {
            "child_id": self.me["child_id"],
            "institution_id": institution,
            "mode": mode,
            "day": day,
            "start": start,
            "end": end,
        }
        with self.client.post(
            "/api/bookings",
            json=body,
            headers={**self.headers, "Idempotency-Key": str(uuid.uuid4())},
            name=f"/api/bookings (book {mode})",
            catch_response=True,
        ) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return
            booking_id = r.json()["id"]
            WRITES["booked"] += 1
        self.wait()
        mine = self._mine()
        if mine is not None and booking_id not in {b["id"] for b in mine}:
            events.request.fire(
                request_type="CHECK",
                name="booking listed in mine",
                response_time=0,
                response_length=0,
                exception=AssertionError("the new booking is not in GET /api/bookings"),
                context={},
            )
        self.wait()
        self._cancel(booking_id)


class Staff(FastHttpUser):
    fixed_count = _count("LOAD_STAFF")
    wait_time = _wait("LOAD_STAFF_WAIT", "2,5")

    def on_start(self) -> None:
        self.me = me = _take("staff")
        self.institution = me["institution_id"]
        self.headers = _bearer(me["token"])
        self.classes: list[str] = []

    def on_stop(self) -> None:
        _give_back("staff", self.me)

    def _get(self, path: str, name: str) -> Any:
        with self.client.get(
            f"/api/institutions/{self.institution}{path}", headers=self.headers, name=name, catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return None
            return r.json()

    @task
    def work_the_desk(self) -> None:
        desk = self._get("/desk", "/api/institutions/{id}/desk")
        if desk is not None:
            self.classes = [c["id"] for c in desk["classes"]]
        self.wait()
        self._get("/applications", "/api/institutions/{id}/applications")
        self.wait()
        self._get(f"/bookings?day={random.choice(plan()['days'])}", "/api/institutions/{id}/bookings?day=")
        self.wait()
        self._get("/notices", "/api/institutions/{id}/notices")
        if self.classes:
            self.wait()
            self._get(
                f"/applications?class_id={random.choice(self.classes)}", "/api/institutions/{id}/applications?class_id="
            )


class Listener(FastHttpUser):
    """One device with the app open: a ticket, then ``/ws``; reads until the run ends. A socket the
    server closes (or a failed connection) is a failure, and the listener reconnects as the PWA does,
    resuming after the last event it received (``last_event_id``)."""

    fixed_count = _count("LOAD_LISTENERS")
    wait_time = constant(0)

    def _ws_event(self, name: str, started: float, exception: Exception | None = None, length: int = 0) -> None:
        events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=exception,
            context={},
        )

    def on_start(self) -> None:
        self.spec = _take("listeners")
        self.record: dict[str, Any] = {
            "kind": self.spec["kind"],
            "account_id": self.spec["account_id"],
            "institution_id": self.spec["institution_id"],
            "ready": None,
            "positions": [],
            "connects": 0,
        }
        LISTENERS.append(self.record)
        self.ws: websocket.WebSocket | None = None
        self.attempts = 0

    def on_stop(self) -> None:
        if self.ws is not None:
            self.ws.close()
        _give_back("listeners", self.spec)

    def _connect(self) -> None:
        with self.client.post(
            "/api/realtime/ticket",
            headers=_bearer(self.spec["token"]),
            name="/api/realtime/ticket",
            catch_response=True,
        ) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return
            url = r.json()["url"]
        if self.record["positions"] or self.record["ready"] is not None:
            url += f"&last_event_id={max(self.record['positions'], default=self.record['ready'])}"
        started = time.perf_counter()
        try:
            ws = websocket.create_connection(self.host.replace("http", "ws", 1) + url, origin=self.host, timeout=30)
            text = ws.recv()
            ready = json.loads(text) if text else {}
            while ready.get("type") == "event":  # resumed: missed events come before ``ready``
                self._received(ready, text)
                text = ws.recv()
                ready = json.loads(text) if text else {}
            if ready.get("type") != "ready":
                raise RuntimeError(f"expected ready, got {text[:100]!r}")
        except Exception as exc:
            self._ws_event("/ws connect (until ready)", started, exc)
            return
        self._ws_event("/ws connect (until ready)", started)
        ws.settimeout(None)
        self.ws = ws
        if self.record["ready"] is None:
            self.record["ready"] = ready["last_event_id"]
            SUMMARY["connected"] += 1
        self.record["connects"] += 1

    def _received(self, message: dict[str, Any], text: str) -> None:
        self.record["positions"].append(message["id"])
        at = dt.datetime.fromisoformat(message["at"]).timestamp()
        events.request.fire(
            request_type="WS",
            name="event received (written to receipt)",
            response_time=max(0.0, (time.time() - at) * 1000),
            response_length=len(text),
            exception=None,
            context={},
        )

    @task
    def listen(self) -> None:
        if self.ws is None:
            self._connect()
            if self.ws is None:
                # The PWA's reconnect delay (pwa/src/utils/backoff.ts): 0.5 s doubling to 30 s, ±20 %.
                time.sleep(min(0.5 * 2**self.attempts, 30) * random.uniform(0.8, 1.2))  # gevent-patched
                self.attempts += 1
            else:
                self.attempts = 0
            return
        try:
            text = self.ws.recv()
            if not text:
                raise websocket.WebSocketConnectionClosedException("closed")
        except websocket.WebSocketException as exc:
            SUMMARY["closed"] += 1
            self._ws_event("/ws closed by the server", time.perf_counter(), exc)
            self.ws = None
            return
        message = json.loads(text)
        if message.get("type") == "event":
            self._received(message, text)


class HealthProbe(FastHttpUser):
    fixed_count = 1
    wait_time = constant(1)

    @task
    def health(self) -> None:
        self.client.get("/health", name="/health")
