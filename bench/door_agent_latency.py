"""The door agent's own share of "scan posted -> relay moved", on this machine:

    python bench/door_agent_latency.py [--n 200] [--json]

* ``osdp``: a verified command -> the LibOSDP PeripheralDevice's get_command returns the output
  command (agent and a real PD in one process over a socket pair, secure channel on; LibOSDP's
  CP and PD each refresh every 20 ms, so ~20-40 ms is the bus loop, not the agent).
* ``mqtt``: a verified command -> a subscriber on ``cmnd/<device>/POWER`` receives ``ON``, through
  a real mosquitto started here on a free loopback port (QoS 1, the agent waits for the PUBACK).
* ``poll+mqtt``: the whole agent loop: a signed command handed to a held long poll of a small
  HTTPS server on loopback (the test suite's stand-in for the server's endpoint, self-signed
  certificate verified via ca_file) -> the subscriber receives ``ON``.
* ``verify``: Ed25519 verification + checks + the fsync'd nonce write alone.

Each sample is a fresh signed command. Printed: p50, p95, max in ms (and a 95 % interval of the
median by bootstrap). The server's side (decision, signing, long poll) is bench/door_open_bench.py's.
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "dooragent" / "src"))
sys.path.insert(0, str(REPO / "dooragent" / "tests"))

import osdp  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from agent_helpers import DOOR, FakeServer, SocketChannel, agent_config, free_port, payload  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from dooragent.client import Agent  # noqa: E402
from dooragent.commands import public_key_text, sign_command  # noqa: E402
from dooragent.drivers.osdp import OsdpDriver  # noqa: E402


def summary(ms: list[float]) -> dict:
    ms = sorted(ms)
    rng = random.Random(1)
    medians = sorted(statistics.median(rng.choices(ms, k=len(ms))) for _ in range(1000))
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
        "max_ms": round(ms[-1], 2),
        "p50_ci95_ms": [round(medians[25], 2), round(medians[974], 2)],
    }


def bench_osdp(key, tmp: Path, n: int) -> dict:
    scbk = bytes(range(16))
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    pd = osdp.PeripheralDevice(
        osdp.PDInfo(1, SocketChannel(b), scbk=scbk, flags=[osdp.LibFlag.EnforceSecure]),
        osdp.PDCapabilities([(osdp.Capability.OutputControl, 1, 1)]),
        log_level=osdp.LogLevel.Warning,
    )
    settings = {"type": "osdp", "port": "/dev/null", "scbk": scbk.hex()}
    driver = OsdpDriver(settings, lambda s: None, channel=SocketChannel(a))
    agent = Agent(agent_config(tmp / "osdp", [public_key_text(key)], driver=settings), driver=driver)
    pd.start()
    driver.start()
    t0 = time.monotonic()
    assert driver.wait_ready(10), "no secure channel"
    sc_ms = (time.monotonic() - t0) * 1000
    samples = []
    for _ in range(n):
        command = sign_command(key, payload(time.time()))
        t = time.perf_counter()
        assert agent.handle(command)
        assert pd.get_command(timeout=2) is not None
        samples.append((time.perf_counter() - t) * 1000)
    driver.stop()
    pd.stop()
    return {**summary(samples), "secure_channel_ms": round(sc_ms)}


def bench_mqtt(key, tmp: Path, n: int) -> dict:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        got: queue.Queue = queue.Queue()
        ready: queue.Queue = queue.Queue()
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        sub.on_connect = lambda c, u, f, rc, p: c.subscribe("cmnd/bench/POWER", qos=1)
        sub.on_subscribe = lambda *a: ready.put(True)
        sub.on_message = lambda c, u, m: got.put(time.perf_counter())
        sub.connect("127.0.0.1", port)
        sub.loop_start()
        ready.get(timeout=5)
        settings = {"type": "mqtt", "host": "127.0.0.1", "port": port, "device": "bench"}
        agent = Agent(agent_config(tmp / "mqtt", [public_key_text(key)], driver=settings))
        agent.driver.start()
        assert agent.driver.wait_ready(5)
        samples = []
        for _ in range(n):
            command = sign_command(key, payload(time.time()))
            t = time.perf_counter()
            assert agent.handle(command)
            samples.append((got.get(timeout=2) - t) * 1000)
        agent.driver.stop()
        results = {"mqtt": summary(samples)}
        # The whole loop: held long poll over HTTPS -> verify -> MQTT.
        server = FakeServer(tmp)
        loop_agent = Agent(
            agent_config(
                tmp / "loop",
                [public_key_text(key)],
                driver=settings,
                server_url=server.url,
                ca_file=str(server.cert),
                heartbeat_seconds=3600,
            )
        )
        thread = threading.Thread(target=loop_agent.run, daemon=True)
        thread.start()
        assert loop_agent.driver.wait_ready(5)
        samples = []
        for _ in range(n):
            time.sleep(0.02)  # let the agent's next poll be held
            command = sign_command(key, payload(time.time()))
            t = time.perf_counter()
            server.push(command)
            samples.append((got.get(timeout=5) - t) * 1000)
        loop_agent.stop()
        server.close()
        thread.join(30)
        sub.disconnect()
        sub.loop_stop()
        results["poll+mqtt"] = summary(samples)
        return results
    finally:
        broker.terminate()
        broker.wait(5)


def bench_verify(key, tmp: Path, n: int) -> dict:
    settings = {"type": "mqtt", "host": "127.0.0.1", "device": "x"}
    agent = Agent(agent_config(tmp / "verify", [public_key_text(key)], driver=settings))
    samples = []
    for _ in range(n):
        command = sign_command(key, payload(time.time()))
        t = time.perf_counter()
        assert agent.verifier.verify(command).door == DOOR
        samples.append((time.perf_counter() - t) * 1000)
    return summary(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        results = {
            "verify": bench_verify(key, tmp, args.n),
            "osdp": bench_osdp(key, tmp, args.n),
        }
        results.update(bench_mqtt(key, tmp, args.n))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, r in results.items():
            extra = f", secure channel up in {r['secure_channel_ms']} ms" if "secure_channel_ms" in r else ""
            print(
                f"{name:6s} n={r['n']}: p50 {r['p50_ms']} ms (95% CI {r['p50_ci95_ms'][0]}-{r['p50_ci95_ms'][1]}),"
                f" p95 {r['p95_ms']} ms, max {r['max_ms']} ms{extra}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
