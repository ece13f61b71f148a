"""The agent's one config file (TOML). Example (README, "Installing a door agent")::

server_url = "https://justface.example.org"
token = "..."                  # the agent credential shown once at pairing (or token_file)
door = "3"
public_keys = ["ed25519:<kid>:<base64>"]
# ca_file = "/etc/dooragent/server-ca.pem"   # a self-signed server
# state_dir = "/var/lib/dooragent"           # the nonce store and the report queue
# skew_seconds = 2
# heartbeat_seconds = 30
# poll_wait = 20

[driver]
type = "mqtt"
host = "127.0.0.1"
device = "frontdoor"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .commands import DEFAULT_SKEW, parse_public_key
from .drivers import DRIVERS, driver_class

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Config:
    server_url: str
    token: str
    door: str
    public_keys: list[str]
    driver: dict
    ca_file: str | None = None
    state_dir: Path = Path("/var/lib/dooragent")
    skew_seconds: float = DEFAULT_SKEW
    heartbeat_seconds: float = 30.0
    poll_wait: int = 20


def load(path: str | Path) -> tuple[Config | None, list[str]]:
    """(config, problems): config is None when there is any problem; each problem is one sentence."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [f"{path}: no such file"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: cannot be read ({exc})"]
    except tomllib.TOMLDecodeError as exc:
        return None, [f"{path}: not valid TOML ({exc})"]
    return from_dict(data, base=path.parent)


def from_dict(data: dict, *, base: Path = Path(".")) -> tuple[Config | None, list[str]]:
    problems: list[str] = []
    known = {
        "server_url", "token", "token_file", "door", "public_keys", "driver", "ca_file",
        "state_dir", "skew_seconds", "heartbeat_seconds", "poll_wait",
    }  # fmt: skip
    for key in sorted(set(data) - known):
        problems.append(f"{key}: unknown setting")

    url = data.get("server_url")
    if not isinstance(url, str) or not url:
        problems.append("server_url: missing (the Justface server, e.g. https://justface.example.org)")
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            problems.append(f"server_url: {url!r} is not an https:// URL")
        elif parts.scheme == "http" and parts.hostname not in LOOPBACK:
            problems.append("server_url: must be https:// (plain http only to a server on this machine)")

    token = data.get("token")
    if "token_file" in data:
        token_path = base / str(data["token_file"])
        try:
            token = token_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            problems.append(f"token_file: {token_path} cannot be read ({exc.strerror})")
            token = ""
    if not isinstance(token, str) or not token.strip():
        problems.append("token: missing (the agent credential shown once when the agent was paired)")

    door = data.get("door")
    if isinstance(door, int) and not isinstance(door, bool):
        door = str(door)
    if not isinstance(door, str) or not door:
        problems.append("door: missing (the door's id, as the pairing printed it)")

    keys = data.get("public_keys")
    if not isinstance(keys, list) or not keys:
        problems.append("public_keys: a list of at least one server public key (ed25519:<kid>:<base64>)")
        keys = []
    for text in keys:
        try:
            parse_public_key(text)
        except ValueError as exc:
            problems.append(f"public_keys: {exc}")

    ca_file = data.get("ca_file")
    if ca_file is not None:
        ca_file = str(base / str(ca_file))
        if not Path(ca_file).is_file():
            problems.append(f"ca_file: {ca_file} does not exist")

    numbers = {"skew_seconds": (0, 30), "heartbeat_seconds": (1, 3600), "poll_wait": (0, 25)}
    values = {}
    for key, (low, high) in numbers.items():
        if key in data:
            value = data[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
                problems.append(f"{key}: {value!r} is not a number {low}..{high}")
            else:
                values[key] = value

    driver = data.get("driver")
    if not isinstance(driver, dict) or "type" not in driver:
        problems.append(f"driver: a [driver] table with type = one of {', '.join(sorted(DRIVERS))}")
        driver = {}
    else:
        try:
            problems.extend(driver_class(driver["type"]).check(driver))
        except ValueError as exc:
            problems.append(f"driver.type: {exc}")

    if problems:
        return None, problems
    return Config(
        server_url=url.rstrip("/"),
        token=token.strip(),
        door=door,
        public_keys=list(keys),
        driver=dict(driver),
        ca_file=ca_file,
        state_dir=base / str(data.get("state_dir", "/var/lib/dooragent")),
        skew_seconds=float(values.get("skew_seconds", DEFAULT_SKEW)),
        heartbeat_seconds=float(values.get("heartbeat_seconds", 30)),
        poll_wait=int(values.get("poll_wait", 20)),
    ), []
