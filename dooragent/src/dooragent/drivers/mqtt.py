"""MQTT driver: a network relay (Tasmota, ESPHome, Shelly) behind an MQTT broker.

Defaults follow Tasmota's topic layout with ``device`` as the Tasmota topic:

* relay: ``PulseTime`` on ``cmnd/<device>/PulseTime`` (Tasmota's units: 1..111 = 0.1 s steps,
  112.. = value - 100 seconds; sent only when it differs from the last one this agent sent), then
  ``ON`` on ``cmnd/<device>/POWER``. Tasmota turns the relay off by itself after PulseTime, so a
  crashed agent or a lost broker cannot leave the door unlocked. ``pulse = "device"`` sends only
  ``ON`` (for a relay whose auto-off is configured on the device, e.g. ESPHome ``on_turn_on`` delay
  or Shelly's auto-off).
* contact: ``cmnd/<device>_contact/POWER`` (what Tasmota's Switch1 publishes with
  ``SwitchTopic <device>_contact``), ``ON`` = open, ``OFF`` = closed; both topic and payloads are
  settings because they depend on the wiring (a normally-closed reed contact reads the other way).

Every publish is QoS 1 and waits for the broker's PUBACK (``open`` raises DriverError otherwise).

Settings (``[driver]`` with ``type = "mqtt"``): ``host``, ``port`` (1883, 8883 with TLS), ``tls``
(false), ``ca_file``, ``username``, ``password``, ``device``, ``command_topic``, ``command_on``
("ON"), ``pulse`` ("pulsetime" or "device"), ``pulse_topic``, ``contact_topic``, ``contact_open``
("ON"), ``contact_closed`` ("OFF"), ``client_id``.
"""

from __future__ import annotations

import math
import ssl
import threading

import paho.mqtt.client as mqtt

from . import ContactCallback, Driver, DriverError

ACK_TIMEOUT = 2.0


def tasmota_pulsetime(ms: int) -> int:
    """Tasmota's PulseTime for at least ``ms`` milliseconds."""
    if ms <= 11100:
        return max(1, math.ceil(ms / 100))
    return 100 + math.ceil(ms / 1000)


class MqttDriver(Driver):
    name = "mqtt"

    @classmethod
    def check(cls, settings: dict) -> list[str]:
        problems = []
        if not isinstance(settings.get("host"), str) or not settings.get("host"):
            problems.append("driver.host: the MQTT broker's host name is missing")
        port = settings.get("port", 1883)
        if not isinstance(port, int) or not 0 < port < 65536:
            problems.append(f"driver.port: {port!r} is not a TCP port")
        has_device = isinstance(settings.get("device"), str) and settings.get("device")
        for key in ("command_topic", "contact_topic"):
            if key not in settings and not has_device:
                problems.append(f"driver.{key}: set it, or set driver.device for Tasmota's default topics")
        if settings.get("pulse", "pulsetime") not in ("pulsetime", "device"):
            problems.append('driver.pulse: must be "pulsetime" or "device"')
        if settings.get("ca_file") and not settings.get("tls"):
            problems.append("driver.ca_file is set but driver.tls is false")
        if bool(settings.get("username")) != bool(settings.get("password")) and settings.get("username"):
            problems.append("driver.password: a username without a password")
        return problems

    def __init__(self, settings: dict, on_contact: ContactCallback):
        super().__init__(settings, on_contact)
        device = settings.get("device", "")
        self.host = settings["host"]
        self.port = settings.get("port", 1883)
        self.command_topic = settings.get("command_topic", f"cmnd/{device}/POWER")
        self.command_on = settings.get("command_on", "ON")
        self.pulse = settings.get("pulse", "pulsetime")
        self.pulse_topic = settings.get("pulse_topic", f"cmnd/{device}/PulseTime")
        self.contact_topic = settings.get("contact_topic", f"cmnd/{device}_contact/POWER")
        self.contact_open = str(settings.get("contact_open", "ON")).strip().upper()
        self.contact_closed = str(settings.get("contact_closed", "OFF")).strip().upper()
        self.contact: str | None = None
        self._pulsetime_sent: int | None = None
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=settings.get("client_id", ""))
        if settings.get("username"):
            self.client.username_pw_set(settings["username"], settings.get("password"))
        if settings.get("tls"):
            self.client.tls_set(ca_certs=settings.get("ca_file") or None, cert_reqs=ssl.CERT_REQUIRED)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(1, 30)

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    def open(self, ms: int) -> None:
        if not self._connected.is_set():
            raise DriverError("not connected to the MQTT broker")
        with self._lock:
            if self.pulse == "pulsetime":
                value = tasmota_pulsetime(ms)
                if value != self._pulsetime_sent:
                    self._publish(self.pulse_topic, str(value))
                    self._pulsetime_sent = value
            self._publish(self.command_topic, self.command_on)

    def _publish(self, topic: str, payload: str) -> None:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DriverError(f"publish to {topic} failed ({mqtt.error_string(info.rc)})")
        try:
            info.wait_for_publish(ACK_TIMEOUT)
        except (RuntimeError, ValueError) as exc:
            raise DriverError(f"publish to {topic} failed ({exc})") from None
        if not info.is_published():
            raise DriverError(f"the broker did not acknowledge {topic} within {ACK_TIMEOUT} s")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            return
        # A new broker session may be a restarted device: send PulseTime again before the next ON.
        self._pulsetime_sent = None
        client.subscribe(self.contact_topic, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        # Ready once the contact subscription is in place, so no contact change is missed.
        if not any(rc.is_failure for rc in reason_codes):
            self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()

    def _on_message(self, client, userdata, message) -> None:
        if message.topic != self.contact_topic:
            return
        text = message.payload.decode("utf-8", "replace").strip().upper()
        state = "open" if text == self.contact_open else "closed" if text == self.contact_closed else None
        if state and state != self.contact:
            self.contact = state
            self.on_contact(state)
