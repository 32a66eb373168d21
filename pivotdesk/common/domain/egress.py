"""Which outbound addresses PivotDesk may connect to: the pure checks behind the egress guard (no Django, no I/O).

A host is refused when any address it stands for is not a public unicast address: loopback, private (RFC 1918,
ULA), link-local, CGNAT 100.64/10, multicast, reserved, unspecified, broadcast, and the IPv6 forms that embed such
an IPv4 address (mapped, compatible, 6to4, NAT64). Numeric hosts are read the way `inet_aton` and browsers read
them (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1` are all 127.0.0.1), so a trick spelling cannot slip past.
An allowlist of networks and host names opens the door for on-premises targets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
type IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_MAX = 0xFFFFFFFF


def _inet_aton_part(text: str) -> int | None:
    """One dotted part as inet_aton reads it: 0x… hex, 0… octal, else decimal; None when it is not a number."""
    if not text:
        return None
    lowered = text.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:], 16) if lowered[2:] else 0
        if len(lowered) > 1 and lowered.startswith("0"):
            return int(lowered[1:], 8)
        if lowered.isdigit():
            return int(lowered, 10)
    except ValueError:
        return None
    return None


def parse_ipv4_like(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host means to inet_aton / a browser (`127.1`, `0x7f000001`, `017700000001`), or
    None when the host is a name. A numeric-looking host that is out of range is refused by the caller as invalid."""
    text = host.rstrip(".") if host.endswith(".") and host.count(".") <= 4 else host
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = [_inet_aton_part(part) for part in parts]
    if any(value is None for value in values):
        return None
    numbers = [int(v) for v in values if v is not None]
    *head, last = numbers
    if any(n > 0xFF for n in head) or last >= 1 << (8 * (5 - len(numbers))):
        raise ValueError(f"numeric host out of range: {host!r}")
    value = 0
    for n in head:
        value = (value << 8) | n
    value = (value << (8 * (5 - len(numbers)))) | last
    if value > _IPV4_MAX:
        raise ValueError(f"numeric host out of range: {host!r}")
    return ipaddress.IPv4Address(value)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a URL host spells (`[::1]`, `::ffff:127.0.0.1`, `2130706433`, …), or None for a DNS name.
    Raises ValueError for a numeric host that no resolver would accept."""
    text = host.strip().strip("[]")
    if ":" in text:
        return ipaddress.IPv6Address(text.split("%", 1)[0])
    return parse_ipv4_like(text)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv6 one (mapped, compatible, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = int(address)
    if address in _NAT64:
        return ipaddress.IPv4Address(packed & _IPV4_MAX)
    if packed >> 32 == 0 and packed > 1:  # deprecated IPv4-compatible ::a.b.c.d (:: and ::1 are classified as is)
        return ipaddress.IPv4Address(packed)
    return None


_CHECKS: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("unspecified address", lambda a: a.is_unspecified),
    ("loopback address", lambda a: a.is_loopback),
    ("link-local address", lambda a: a.is_link_local),
    ("multicast address", lambda a: a.is_multicast),
    ("shared (CGNAT) address", lambda a: a.version == 4 and a in _CGNAT),
    ("broadcast address", lambda a: a.version == 4 and int(a) == _IPV4_MAX),
    ("reserved address", lambda a: a.is_reserved),
    ("private address", lambda a: a.is_private),
    ("non-public address", lambda a: not a.is_global),
)


def refusal_reason(address: IPAddress) -> str | None:
    """Why an address must not be connected to (a short English label), or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = refusal_reason(inner)
            return f"{reason} (in IPv6 form)" if reason else None
    return next((label for label, applies in _CHECKS if applies(address)), None)


@dataclass(frozen=True)
class Allowlist:
    """Networks and host names an administrator opened for on-premises targets (`PIVOTDESK_EGRESS_ALLOW`)."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        """CIDRs or single addresses become networks; anything else is a host name (`*.corp.example` for a domain)."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in entries:
            entry = str(raw).strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(networks=tuple(networks), hosts=frozenset(hosts))

    def allows_host(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        if name in self.hosts:
            return True
        return any(entry.startswith("*.") and name.endswith(entry[1:]) for entry in self.hosts)

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)


def check_addresses(host: str, addresses: Sequence[IPAddress], allow: Allowlist) -> str | None:
    """Why connecting to `host` (resolved to `addresses`) is refused, or None when every address may be used.
    Every address must pass: a name resolving to one public and one private address is refused."""
    if allow.allows_host(host):
        return None
    if not addresses:
        return "no address"
    for address in addresses:
        if allow.allows_address(address):
            continue
        reason = refusal_reason(address)
        if reason is not None:
            return reason
    return None
