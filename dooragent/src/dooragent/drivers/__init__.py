"""Door drivers: a small plug-in interface between the agent and the lock's hardware.

A driver is a class with ``name``, ``check(settings) -> list[str]`` (config problems, one sentence
each), ``__init__(settings, on_contact)``, ``start()``, ``stop()`` and ``open(ms)``. ``open`` moves
the relay for ``ms`` milliseconds *in the device* (the device turns it off again by itself, so a
crashed agent cannot leave a door unlocked) and raises :class:`DriverError` when it could not.
``on_contact("open"|"closed")`` is called on every change of the door contact.

Built in: ``osdp`` (LibOSDP control panel, secure channel), ``mqtt`` (Tasmota-style relay) and
``http`` (a Shelly Gen2+ relay's RPC, or any relay with an HTTP API). Another one (GPIO via
libgpiod, documented only) is a class with the same methods registered in :data:`DRIVERS`
(README, "Installing a door agent").
"""

from __future__ import annotations

import importlib
from typing import Callable

ContactCallback = Callable[[str], None]

DRIVERS = {
    "osdp": "dooragent.drivers.osdp:OsdpDriver",
    "mqtt": "dooragent.drivers.mqtt:MqttDriver",
    "http": "dooragent.drivers.http:HttpDriver",
}


class DriverError(Exception):
    """The relay could not be moved (device offline, broker unreachable, no acknowledgement)."""


class Driver:
    name = "base"

    @classmethod
    def check(cls, settings: dict) -> list[str]:
        return []

    def __init__(self, settings: dict, on_contact: ContactCallback):
        self.settings = settings
        self.on_contact = on_contact

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def open(self, ms: int) -> None:
        raise NotImplementedError


def driver_class(name: str) -> type[Driver]:
    try:
        target = DRIVERS[name]
    except KeyError:
        raise ValueError(f"unknown driver {name!r} (known: {', '.join(sorted(DRIVERS))})") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
