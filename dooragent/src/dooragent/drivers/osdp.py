"""OSDP driver: LibOSDP as the control panel (CP) of one peripheral device (PD) on an RS-485 bus.

The PD is the door's reader or I/O module. Secure channel is mandatory (``LibFlag.EnforceSecure``
with the PD's 16-byte SCBK): a device on the bus that does not hold the key is never talked to in
clear. ``open(ms)`` sends ``osdp_OUT`` (Command.Output) with control code 5, "temporary on for
timer_count x 100 ms then back", so the PD itself turns the relay off again, and returns once the
PD acknowledged it (LibOSDP's command completion; a NAK or no answer raises DriverError). The door contact is one
of the PD's inputs; its ``osdp_ISTATR`` status reports arrive as ``Event.Status`` / ``Input``.

Settings (``[driver]`` with ``type = "osdp"``): ``port`` (serial device, e.g. /dev/ttyUSB0),
``baud`` (9600), ``address`` (PD address 0..126, default 1), ``scbk`` (32 hex chars), ``output``
(relay output number, 0), ``contact_input`` (input number, 0), ``contact_active`` ("open": an
active input means the door is open, the default; "closed": the other way round).
"""

from __future__ import annotations

import math
import os
import termios
import threading
import time
import tty

import osdp

from . import ContactCallback, Driver, DriverError

CONTROL_TEMPORARY_ON = 5
ACK_TIMEOUT = 2.0  # the PD answers within one poll cycle (~50 ms); a silent one is offline
BAUDS = {
    9600: termios.B9600,
    19200: termios.B19200,
    38400: termios.B38400,
    57600: termios.B57600,
    115200: termios.B115200,
}


class SerialChannel(osdp.Channel):
    """A raw, non-blocking serial port (an RS-485 USB adapter) with the standard library's termios."""

    def __init__(self, port: str, baud: int):
        super().__init__()
        self.fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[4] = attrs[5] = BAUDS[baud]
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)

    def read(self, max_bytes: int) -> bytes:
        try:
            return os.read(self.fd, max_bytes)
        except BlockingIOError:
            return b""

    def write(self, buf: bytes) -> int:
        try:
            return os.write(self.fd, buf)
        except BlockingIOError:
            return 0

    def flush(self) -> None:
        termios.tcflush(self.fd, termios.TCIOFLUSH)

    def close(self) -> None:
        os.close(self.fd)


def timer_count(ms: int) -> int:
    """OSDP's temporary-on timer is in units of 100 ms (16 bits); round up so the door is never shorter."""
    return max(1, min(0xFFFF, math.ceil(ms / 100)))


class OsdpDriver(Driver):
    name = "osdp"

    @classmethod
    def check(cls, settings: dict) -> list[str]:
        problems = []
        if not isinstance(settings.get("port"), str) or not settings.get("port"):
            problems.append("driver.port: the serial device of the RS-485 adapter is missing (e.g. /dev/ttyUSB0)")
        if settings.get("baud", 9600) not in BAUDS:
            problems.append(f"driver.baud: {settings.get('baud')!r} is not one of {sorted(BAUDS)}")
        address = settings.get("address", 1)
        if not isinstance(address, int) or not 0 <= address <= 126:
            problems.append(f"driver.address: {address!r} is not an OSDP address 0..126")
        scbk = settings.get("scbk")
        try:
            ok = isinstance(scbk, str) and len(bytes.fromhex(scbk)) == 16
        except ValueError:
            ok = False
        if not ok:
            problems.append("driver.scbk: the secure channel base key must be 32 hex characters (16 bytes)")
        for key in ("output", "contact_input"):
            if not isinstance(settings.get(key, 0), int) or settings.get(key, 0) < 0:
                problems.append(f"driver.{key}: must be a number 0 or more")
        if settings.get("contact_active", "open") not in ("open", "closed"):
            problems.append('driver.contact_active: must be "open" or "closed"')
        return problems

    def __init__(self, settings: dict, on_contact: ContactCallback, *, channel: osdp.Channel | None = None):
        super().__init__(settings, on_contact)
        self.address = settings.get("address", 1)
        self.output = settings.get("output", 0)
        self.contact_input = settings.get("contact_input", 0)
        self.active_means_open = settings.get("contact_active", "open") == "open"
        self._own_channel = channel is None
        self.channel = channel or SerialChannel(settings["port"], settings.get("baud", 9600))
        self.contact: str | None = None
        self._open_lock = threading.Lock()
        self._acked = threading.Event()
        self._ack_status: int | None = None
        info = osdp.PDInfo(
            self.address,
            self.channel,
            scbk=bytes.fromhex(settings["scbk"]),
            flags=[osdp.LibFlag.EnforceSecure],
        )
        self.cp = osdp.ControlPanel(
            [info],
            log_level=osdp.LogLevel.Warning,
            event_handler=self._on_event,
            command_completion_handler=self._on_completion,
        )

    def start(self) -> None:
        self.cp.start()

    def stop(self) -> None:
        try:
            self.cp.stop()
        except RuntimeError:
            pass
        if self._own_channel:
            self.channel.close()

    def ready(self) -> bool:
        return self.cp.is_online(self.address) and self.cp.is_sc_active(self.address)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
                return True
            time.sleep(0.05)
        return False

    def open(self, ms: int) -> None:
        if not self.ready():
            raise DriverError("the OSDP device is offline or has no secure channel")
        command = {
            "command": osdp.Command.Output,
            "output_no": self.output,
            "control_code": CONTROL_TEMPORARY_ON,
            "timer_count": timer_count(ms),
        }
        with self._open_lock:
            self._acked.clear()
            self._ack_status = None
            if not self.cp.submit_command(self.address, command):
                raise DriverError("LibOSDP did not accept the output command")
            # The "relay" report means the PD acknowledged the output command (osdp_ACK), not
            # merely that it was queued.
            if not self._acked.wait(ACK_TIMEOUT):
                raise DriverError(f"the OSDP device did not answer the output command within {ACK_TIMEOUT} s")
            if self._ack_status != osdp.CompletionStatus.Ok:
                raise DriverError(f"the OSDP device refused the output command (completion {self._ack_status})")

    def _on_completion(self, address: int, command: dict, status: int) -> None:
        if command.get("command") == osdp.Command.Output:
            self._ack_status = status
            self._acked.set()

    def _on_event(self, pd: int, event: dict) -> int:
        if event.get("event") != osdp.Event.Status or event.get("type") != osdp.StatusReportType.Input:
            return 0
        report = event.get("report") or b""
        if len(report) <= self.contact_input:
            return 0
        active = bool(report[self.contact_input])
        state = "open" if active == self.active_means_open else "closed"
        if state != self.contact:
            self.contact = state
            self.on_contact(state)
        return 0
