"""Doors, the tablets that guard them, what the tablets ask (scans and PIN entries), the access
events they produce, and the visits (check-in to check-out) that give live occupancy; by topic:
``doors``, ``scans`` (scans, challenges, access events, visits, PIN lockouts), ``reports``
(exports, hourly statistics) and ``agents`` (door agents, their commands, door events).
Import them from here."""

from access.models.agents import DoorAgent, DoorCommand, DoorEvent
from access.models.doors import AntiPassback, DeviceToken, Door, PassbackScope
from access.models.reports import HourlyStat, ReportExport
from access.models.scans import AccessEvent, Challenge, Direction, Method, PinLockout, Scan, Visit

__all__ = [
    "AccessEvent",
    "AntiPassback",
    "Challenge",
    "DeviceToken",
    "Direction",
    "Door",
    "DoorAgent",
    "DoorCommand",
    "DoorEvent",
    "HourlyStat",
    "Method",
    "PassbackScope",
    "PinLockout",
    "ReportExport",
    "Scan",
    "Visit",
]
