"""Where a webhook may be sent: no server-side request forgery.

An endpoint's URL is checked when it is saved and again at every attempt: the host is resolved
then, every address it resolves to must be allowed, and the request connects to one of those
checked addresses (webhooks.sending), so a name that resolves to a public address when saved and to
an internal one later (DNS rebinding) is refused at the attempt. An address is allowed when it is
in a network the operator allow-listed (JUSTFACE_WEBHOOK_ALLOW_NETS: loopback for tests and
`make run`), or when it is a public (global unicast) address and the URL is HTTPS."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes that carry an IPv4 address inside (6to4, NAT64): checked as that IPv4 address.
_6TO4 = ipaddress.ip_network("2002::/16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """The URL may not be called; the message is for staff (no answer of the far side in it)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL (for the Host header, TLS server name and certificate check)
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]  # every address the host resolved to, each one checked

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(net, strict=False) for net in settings.JUSTFACE_WEBHOOK_ALLOW_NETS]


def _embedded(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _6TO4:
            return address.sixtofour or address
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public(address: Address) -> bool:
    address = _embedded(address)
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def check_address(address: str, scheme: str) -> None:
    parsed = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is local anyway
    if any(candidate in net for candidate in {parsed, _embedded(parsed)} for net in allowed_networks()):
        return
    if not is_public(parsed):
        raise Refused(_("%(address)s is not a public address.") % {"address": parsed})
    if scheme != "https":
        raise Refused(_("Public addresses are called over HTTPS only."))


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a URL a webhook may have, or Refused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused(_("This is not a valid URL.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise Refused(_("The URL must start with https://."))
    if parts.username is not None or parts.password is not None:
        raise Refused(_("The URL must not contain a user name or password."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused(_("The URL has no host."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve(url: str) -> Target:
    """The URL's target with every address its host resolves to now, each checked."""
    scheme, host, port, path = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(_("The host %(host)s does not resolve.") % {"host": host}) from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Refused(_("The host %(host)s does not resolve.") % {"host": host})
    for address in addresses:
        check_address(address, scheme)
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)
