"""A real SMTP server on loopback for tests of what the mail server answers: it accepts every
recipient except those listed in `refuse` (answered with the given reply code), and keeps the
accepted messages. Django's SMTP backend talks to it exactly as to a provider's server."""

from __future__ import annotations

import socketserver
import threading
from contextlib import contextmanager


class _Handler(socketserver.StreamRequestHandler):
    def _reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        server = self.server
        self._reply("220 localhost test SMTP")
        recipients: list[str] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 localhost")
            elif verb == "MAIL":
                recipients = []
                self._reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>").lower()
                code = server.refuse.get(address)
                if code:
                    self._reply(f"{code} <{address}>: Recipient address rejected")
                else:
                    recipients.append(address)
                    self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(line)
                server.received.append((recipients, b"".join(lines).decode(errors="replace")))
                self._reply("250 OK queued")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            else:
                self._reply("502 Command not implemented")


class SMTPReceiver(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, refuse: dict[str, int]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.refuse = {address.lower(): code for address, code in refuse.items()}
        self.received: list[tuple[list[str], str]] = []

    @property
    def port(self) -> int:
        return self.server_address[1]


@contextmanager
def smtp_receiver(settings, refuse: dict[str, int] | None = None):
    """Run the server and point Django's SMTP backend at it for the block."""
    server = SMTPReceiver(refuse or {})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
