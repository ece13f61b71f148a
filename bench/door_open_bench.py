"""Scan posted -> command at the door's agent: N doors, each with a tablet and an agent,
through a real gunicorn on loopback (README's layout, with the held polls the doors need).

Each door's tablet sends granted PIN entries (a member per door, in and out in turn: the PIN path
is the decision without the face engine, so the figure is what the agent adds on top of a
decision); each door's agent holds `GET /api/v1/agent/commands/?wait=20` as the agent does and
verifies every command's Ed25519 signature, door and event. Reported: the tablet's round trip,
and **open latency** = from the tablet's 200 (decision committed) to the command in the agent's
hands (p50/p95, ms), plus commands lost (a grant whose command never came within 5 s) and
duplicated (a nonce seen twice).

    .venv/bin/python bench/door_open_bench.py              # a table
    .venv/bin/python bench/door_open_bench.py --json       # one JSON object on stdout

`--agent dooragent`: the whole way to the relay instead. Each door runs the real agent
(`dooragent.client.Agent`, in this process, one per door, its own state folder) with the MQTT
driver against its own real mosquitto (started here on a free loopback port), and a subscriber
on `cmnd/<device>/POWER` stands in for the Tasmota relay. Each door's tablet posts a granted PIN,
then waits (up to 5 s) for the relay's `ON` before the next one, so every `ON` belongs to one
grant. Reported: **scan posted -> relay message seen** and tablet's answer -> relay (p50/p95/max,
ms) with 95% intervals, lost (no `ON` within 5 s), duplicated (an `ON` beyond one per grant), and
how many access events got `door_opened_at` from the agents' relay reports. The same checked
against the server's own count, whatever the tablets saw: per door, the relay's `ON`s against the
granted access events (`grants_without_on`, `ons_beyond_grants`, with 95% upper bounds of their
rates), and the machine's load average before and after (it is shared).

    .venv/bin/python bench/door_open_bench.py --agent dooragent --grants 200 --json

Needs PostgreSQL; recreates its own database (--database)."""

from __future__ import annotations

import argparse
import base64
import json
import math
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import door_bench  # noqa: E402  (database, environment and start-up helpers)

REPO = door_bench.REPO
log = door_bench.log


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--database", default="justface_door_open_bench", help="Database to (re)create.")
    parser.add_argument("--doors", type=int, default=8, help="Doors, each with one tablet and one agent.")
    parser.add_argument("--grants", type=int, default=1000, help="Granted entries in all.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes.")
    parser.add_argument("--port", type=int, default=8795)
    parser.add_argument(
        "--agent",
        choices=["verify", "dooragent"],
        default="verify",
        help="verify: a poller that checks each command's signature (up to the command in hand); "
        "dooragent: the real agent with the MQTT driver and a real mosquitto per door (up to the relay).",
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON object and nothing else on stdout.")
    args = parser.parse_args()
    args.torch_threads, args.backend = 1, "onnxruntime"
    return args


def seed(doors: int) -> list[dict]:
    import django

    django.setup()
    from access import door_signing
    from access.models import Door
    from access.services import issue_device_token, issue_door_agent
    from members.models import Centre, Chain, Member
    from members.services import set_pin

    chain = Chain.objects.create(
        name="Bench Fitness",
        slug="bench",
        organisation_number="DK00000000",
        country="DK",
        default_language="da",
        dpo_email="dpo@bench.example",
    )
    centre = Centre.objects.create(chain=chain, name="Bench", slug="bench", opening_hours={})
    public = door_signing.signing_key().public_text
    out = []
    for i in range(doors):
        door = Door.objects.create(centre=centre, name=f"Door {i + 1}")
        member = Member.objects.create(
            chain=chain,
            home_centre=centre,
            first_name=f"M{i}",
            last_name="Bench",
            member_number=f"B{i:04d}",
            birth_date=date(1990, 5, 17),
            start_date=date(2025, 1, 1),
        )
        set_pin(member=member, pin="2580", actor=None)
        out.append(
            {
                "door": str(door.pk),
                "device": issue_device_token(door=door, actor=None)[1],
                "agent": issue_door_agent(door=door, actor=None)[1],
                "number": member.member_number,
                "public": public,
            }
        )
    return out


class AgentPoller(threading.Thread):
    """One door's agent: hold the poll, verify each command, note when it arrived."""

    def __init__(self, base: str, door: dict, received: dict, stop: threading.Event):
        super().__init__(daemon=True)
        from access.door_signing import public_key_from_text

        self.base, self.door, self.received, self.stop = base, door, received, stop
        self.kid, self.key = public_key_from_text(door["public"])
        self.session = requests.Session()
        self.errors = 0
        self.bad = 0

    def run(self):
        auth = {"Authorization": f"Agent {self.door['agent']}"}
        while not self.stop.is_set():
            try:
                answer = self.session.get(
                    f"{self.base}/api/v1/agent/commands/", params={"wait": 2}, headers=auth, timeout=10
                )
            except requests.RequestException:
                self.errors += 1
                continue
            now = time.monotonic()
            if answer.status_code != 200:
                self.errors += 1
                time.sleep(1)
                continue
            for command in answer.json()["commands"]:
                data = base64.urlsafe_b64decode(command["payload"] + "=" * (-len(command["payload"]) % 4))
                try:
                    self.key.verify(base64.urlsafe_b64decode(command["signature"] + "=="), data)
                except Exception:
                    self.bad += 1
                    continue
                payload = json.loads(data)
                if command["kid"] != self.kid or payload["door"] != self.door["door"]:
                    self.bad += 1
                    continue
                self.received.setdefault(payload["event"], []).append((now, payload["nonce"]))


def run(args, base: str, doors: list[dict]) -> dict:
    received: dict[int, list] = {}
    stop = threading.Event()
    agents = [AgentPoller(base, door, received, stop) for door in doors]
    for agent in agents:
        agent.start()
    time.sleep(1)
    answered: dict[int, float] = {}
    round_trips: list[float] = []
    errors = [0]
    lock = threading.Lock()
    per_door = args.grants // len(doors)

    def tablet(door: dict):
        session = requests.Session()
        auth = {"Authorization": f"Device {door['device']}"}
        for n in range(per_door):
            body = {"member_number": door["number"], "pin": "2580", "direction": "in" if n % 2 == 0 else "out"}
            started = time.monotonic()
            try:
                answer = session.post(f"{base}/api/v1/door/pin/", json=body, headers=auth, timeout=10)
            except requests.RequestException:
                errors[0] += 1
                continue
            done = time.monotonic()
            if answer.status_code != 200 or answer.json()["status"] != "granted":
                errors[0] += 1
                continue
            event = _event_of(answer.json())
            with lock:
                answered[event] = done
                round_trips.append(done - started)
            time.sleep(0.05)

    tablets = [threading.Thread(target=tablet, args=(d,)) for d in doors]
    for t in tablets:
        t.start()
    for t in tablets:
        t.join()
    time.sleep(5)
    stop.set()
    for agent in agents:
        agent.join(timeout=15)
    latencies = [received[e][0][0] - t for e, t in answered.items() if e in received]
    lost = sum(1 for e in answered if e not in received)
    duplicated = sum(len(v) - 1 for v in received.values())

    def pct(values, q):
        return round(1000 * statistics.quantiles(values, n=100)[q - 1], 1) if len(values) > 1 else None

    return {
        "doors": len(doors),
        "grants": len(answered),
        "tablet_errors": errors[0],
        "round_trip_p50_ms": pct(round_trips, 50),
        "round_trip_p95_ms": pct(round_trips, 95),
        "open_p50_ms": pct(latencies, 50),
        "open_p95_ms": pct(latencies, 95),
        "open_max_ms": round(1000 * max(latencies), 1) if latencies else None,
        "open_p50_ci95_ms": _pct_ci(latencies, 50),
        "open_p95_ci95_ms": _pct_ci(latencies, 95),
        "lost": lost,
        "duplicated": duplicated,
        "lost_rate_upper95_pct": _lost_upper(lost, len(answered)),
        "bad_signatures": sum(a.bad for a in agents),
        "agent_errors": sum(a.errors for a in agents),
    }


def _pct(values, q):
    return round(1000 * statistics.quantiles(values, n=100)[q - 1], 1) if len(values) > 1 else None


def _pct_ci(values, q) -> list[float] | None:
    """A distribution-free 95% interval of the q-th percentile (ms): the order statistics whose
    ranks are n*p -/+ 1.96*sqrt(n*p*(1-p)) (the binomial's normal approximation)."""
    n = len(values)
    if n < 20:
        return None
    p = q / 100
    half = 1.96 * math.sqrt(n * p * (1 - p))
    ordered = sorted(values)
    low, high = max(0, math.floor(n * p - half) - 1), min(n - 1, math.ceil(n * p + half) - 1)
    return [round(1000 * ordered[low], 1), round(1000 * ordered[high], 1)]


def _lost_upper(lost: int, n: int) -> float | None:
    """The 95% upper bound of the lost (or duplicated) rate, in percent: exact for 0 (1 - 0.05^(1/n)),
    else the Wilson score bound."""
    if n == 0:
        return None
    if lost == 0:
        return round(100 * (1 - 0.05 ** (1 / n)), 2)
    p, z = lost / n, 1.96
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round(100 * (centre + margin) / (1 + z * z / n), 2)


def run_dooragent(args, base: str, doors: list[dict]) -> dict:
    """The real agent per door (MQTT driver, own mosquitto) -> the relay's ON, per granted PIN."""
    import collections
    import contextlib
    import queue

    sys.path.insert(0, str(REPO / "dooragent" / "src"))
    sys.path.insert(0, str(REPO / "dooragent" / "tests"))
    import paho.mqtt.client as mqtt
    from agent_helpers import running_mosquitto
    from dooragent.client import Agent
    from dooragent.config import from_dict

    from access.models import AccessEvent

    folder = Path(tempfile.mkdtemp(prefix="door-open-agents-"))
    per_door = args.grants // len(doors)
    posted_to_relay: list[float] = []
    answered_to_relay: list[float] = []
    counts = {"lost": 0, "duplicated": 0, "tablet_errors": 0}
    events: list[int] = []
    lock = threading.Lock()
    agents, threads, subscribers = [], [], []
    ons: list[collections.Counter] = []  # every ON each door's relay got, whoever it was for
    with contextlib.ExitStack() as stack:
        for i, door in enumerate(doors):
            port = stack.enter_context(running_mosquitto(folder))
            device = f"door{i + 1}"
            seen: queue.Queue = queue.Queue()
            ready = threading.Event()
            ons.append(collections.Counter())
            relay = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
            relay.on_connect = lambda c, u, f, rc, p, device=device: c.subscribe(f"cmnd/{device}/POWER", qos=1)
            relay.on_subscribe = lambda *a, ready=ready: ready.set()
            relay.on_message = lambda c, u, m, seen=seen, n=ons[-1]: (
                n.update(["ON"]),
                seen.put((time.monotonic(), m.payload.decode())),
            )
            relay.connect("127.0.0.1", port)
            relay.loop_start()
            if not ready.wait(10):
                raise SystemExit(f"the relay subscriber of {device} did not subscribe")
            subscribers.append((relay, seen))
            config, problems = from_dict(
                {
                    "server_url": base,
                    "token": door["agent"],
                    "door": door["door"],
                    "public_keys": [door["public"]],
                    "state_dir": str(folder / device),
                    "driver": {"type": "mqtt", "host": "127.0.0.1", "port": port, "device": device},
                }
            )
            if problems:
                raise SystemExit(f"agent config: {problems}")
            agent = Agent(config)
            thread = threading.Thread(target=agent.run, name=f"dooragent-{device}", daemon=True)
            thread.start()
            if not agent.driver.wait_ready(10):
                raise SystemExit(f"the agent of {device} did not reach its broker")
            agents.append(agent)
            threads.append(thread)
        time.sleep(1)  # every agent's first held poll is in

        def tablet(door: dict, seen: queue.Queue):
            session = requests.Session()
            auth = {"Authorization": f"Device {door['device']}"}
            for n in range(per_door):
                body = {"member_number": door["number"], "pin": "2580", "direction": "in" if n % 2 == 0 else "out"}
                posted = time.monotonic()
                try:
                    # Long: on a loaded machine the PIN's hasher alone takes seconds; a request
                    # given up here may still be granted and open the door (counted below).
                    answer = session.post(f"{base}/api/v1/door/pin/", json=body, headers=auth, timeout=60)
                except requests.RequestException:
                    with lock:
                        counts["tablet_errors"] += 1
                    drain(seen, 5)  # its ON, if it was granted after all, is not the next grant's
                    continue
                answered = time.monotonic()
                if answer.status_code != 200 or answer.json()["status"] != "granted":
                    with lock:
                        counts["tablet_errors"] += 1
                    continue
                event = _event_of(answer.json())
                try:
                    at, _ = seen.get(timeout=5)
                except queue.Empty:
                    with lock:
                        counts["lost"] += 1
                        events.append(event)
                    continue
                extra = 0
                while True:  # anything more for this grant is a duplicate
                    try:
                        seen.get(timeout=0.05)
                        extra += 1
                    except queue.Empty:
                        break
                with lock:
                    events.append(event)
                    posted_to_relay.append(at - posted)
                    answered_to_relay.append(at - answered)
                    counts["duplicated"] += extra

        tablets = [threading.Thread(target=tablet, args=(d, sub[1])) for d, sub in zip(doors, subscribers)]
        for t in tablets:
            t.start()
        for t in tablets:
            t.join()
        time.sleep(2)  # late duplicates, and the last relay reports
        for _, seen in subscribers:
            counts["duplicated"] += seen.qsize()
        # The server's own count: every granted entry at a door must move its relay exactly once.
        granted = [
            AccessEvent.objects.filter(door_id=int(d["door"]), decision=AccessEvent.Decision.GRANTED).count()
            for d in doors
        ]
        moved = [n["ON"] for n in ons]
        without_on = sum(max(0, g - m) for g, m in zip(granted, moved))
        beyond = sum(max(0, m - g) for g, m in zip(granted, moved))
        for agent in agents:
            agent.stop()
        for thread in threads:
            thread.join(30)
        for relay, _ in subscribers:
            relay.loop_stop()
            relay.disconnect()
    shutil.rmtree(folder, ignore_errors=True)
    opened = AccessEvent.objects.filter(pk__in=events, door_opened_at__isnull=False).count()
    return {
        "mode": "dooragent+mqtt",
        "doors": len(doors),
        "grants": len(events),
        "tablet_errors": counts["tablet_errors"],
        "relay_p50_ms": _pct(posted_to_relay, 50),
        "relay_p95_ms": _pct(posted_to_relay, 95),
        "relay_max_ms": round(1000 * max(posted_to_relay), 1) if posted_to_relay else None,
        "relay_p50_ci95_ms": _pct_ci(posted_to_relay, 50),
        "relay_p95_ci95_ms": _pct_ci(posted_to_relay, 95),
        "answer_to_relay_p50_ms": _pct(answered_to_relay, 50),
        "answer_to_relay_p95_ms": _pct(answered_to_relay, 95),
        "answer_to_relay_p50_ci95_ms": _pct_ci(answered_to_relay, 50),
        "answer_to_relay_p95_ci95_ms": _pct_ci(answered_to_relay, 95),
        "answer_to_relay_max_ms": round(1000 * max(answered_to_relay), 1) if answered_to_relay else None,
        "lost": counts["lost"],
        "duplicated": counts["duplicated"],
        "lost_rate_upper95_pct": _lost_upper(without_on, sum(granted)),
        "duplicated_rate_upper95_pct": _lost_upper(beyond, sum(granted)),
        "door_opened_at_set": opened,
        "server_grants": sum(granted),
        "relay_ons": sum(moved),
        "grants_without_on": without_on,
        "ons_beyond_grants": beyond,
        "server_grants_without_door_opened_at": AccessEvent.objects.filter(
            decision=AccessEvent.Decision.GRANTED, door_opened_at=None
        ).count(),
        "agent_refused": sum(sum(a.refused.values()) for a in agents),
        "agent_opened": sum(a.opened for a in agents),
    }


def drain(q, timeout: float) -> None:
    """Wait up to `timeout` for one item and drop it (and anything right behind it)."""
    import queue

    try:
        q.get(timeout=timeout)
        while True:
            q.get(timeout=0.05)
    except queue.Empty:
        pass


def _event_of(body: dict) -> int:
    """The access event of a PIN answer: the scan's id is in the answer, the event is looked up."""
    from access.models import AccessEvent

    return AccessEvent.objects.filter(scan_id=body["id"]).values_list("pk", flat=True).get()


def main() -> None:
    import os

    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="door-open-bench-"))
    env = door_bench.environment(args, data_dir)
    held = args.doors  # gunicorn may hand every agent's connection to one process (README, Door agents)
    env.update({"JUSTFACE_DOOR_AGENT_HELD_PER_PROCESS": str(held), "JUSTFACE_WEB_THREADS": str(4 + held)})
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    log(f"Database {args.database}: recreating and migrating")
    door_bench.recreate_database(args)
    door_bench.manage(env, "migrate", "--noinput")
    doors = seed(args.doors)
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            str(Path(door_bench.PYTHON).with_name("gunicorn")),
            "config.wsgi",
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        door_bench.wait_until_up(base, server)
        load_before = os.getloadavg()
        log(f"gunicorn: {args.workers} processes x {4 + held} threads ({held} held polls each); {args.grants} grants")
        result = run_dooragent(args, base, doors) if args.agent == "dooragent" else run(args, base, doors)
        # The machine is shared: its load average (1, 5, 15 min) before and after, beside the figures.
        result["load_before"] = [round(x, 2) for x in load_before]
        result["load_after"] = [round(x, 2) for x in os.getloadavg()]
        result["cpus"] = os.cpu_count()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:22}{value}")


if __name__ == "__main__":
    main()
