"""The pure egress rules: numeric host spellings read like inet_aton, and every non-public address refused."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.common.domain.egress import (
    Allowlist,
    check_addresses,
    parse_ip_literal,
    parse_ipv4_like,
    refusal_reason,
)

NONE = Allowlist()


def _spellings(value: int) -> list[str]:
    """Ways inet_aton accepts to write one IPv4 address: decimal, hex, octal, and the short a.b / a.b.c forms."""
    a, b, c, d = value.to_bytes(4, "big")
    return [
        str(value),
        hex(value),
        "0" + oct(value)[2:],
        f"{a}.{b}.{c}.{d}",
        f"0{a:o}.{b:#x}.{c}.0{d:o}",
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"{a}.{b}.{(c << 8) | d}",
        f"{a:#x}.{b}.{c}.{d}",
    ]


@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_every_numeric_spelling_means_what_inet_aton_says(value):
    for spelling in _spellings(value):
        assert parse_ipv4_like(spelling) == ipaddress.IPv4Address(value), spelling
        assert socket.inet_aton(spelling) == value.to_bytes(4, "big"), spelling  # the reference: the C library


@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_a_refused_address_is_refused_in_every_spelling_and_ipv6_form(value):
    address = ipaddress.IPv4Address(value)
    expected = refusal_reason(address) is None
    for spelling in _spellings(value):
        parsed = parse_ip_literal(spelling)
        assert parsed is not None
        assert (check_addresses(spelling, [parsed], NONE) is None) == expected
    for v6 in (f"::ffff:{address}", f"64:ff9b::{address}", f"2002:{value >> 16:x}:{value & 0xFFFF:x}::1"):
        parsed6 = parse_ip_literal(f"[{v6}]")
        assert parsed6 is not None
        assert (refusal_reason(parsed6) is None) == expected, v6


@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_only_global_unicast_ipv4_addresses_pass(value):
    # Reference: the standard library's registry of special-purpose ranges, plus multicast and broadcast.
    address = ipaddress.IPv4Address(value)
    public = address.is_global and not address.is_multicast and value != 0xFFFFFFFF
    assert (refusal_reason(address) is None) == public


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("2130706433", "loopback"),
        ("0x7f000001", "loopback"),
        ("0177.0.0.1", "loopback"),
        ("0x7f.1", "loopback"),
        ("127.1", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("[::127.0.0.1]", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("[fd00::1]", "private"),
        ("169.254.169.254", "link-local"),
        ("[fe80::1%eth0]", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("224.0.0.1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address under test, not a bind)
        ("[::]", "unspecified"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_internal_addresses_are_refused_with_a_readable_reason(host, reason):
    parsed = parse_ip_literal(host)
    assert parsed is not None
    refused = check_addresses(host, [parsed], NONE)
    assert refused is not None and reason in refused


def test_public_addresses_and_names_are_not_literals_and_public_ones_pass():
    assert parse_ip_literal("example.com") is None
    assert parse_ip_literal("0x7f.example") is None
    assert check_addresses("8.8.8.8", [ipaddress.IPv4Address("8.8.8.8")], NONE) is None
    assert check_addresses("[2606:4700::1111]", [ipaddress.IPv6Address("2606:4700::1111")], NONE) is None


def test_out_of_range_numbers_are_invalid_rather_than_a_name():
    for host in ("4294967296", "256.1.1.1", "1.2.3.256", "1.16777216"):
        with pytest.raises(ValueError):
            parse_ipv4_like(host)


def test_a_name_with_one_internal_address_among_public_ones_is_refused():
    addresses = [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.1.2.3")]
    assert check_addresses("mixed.example", addresses, NONE) == "private address"


def test_the_allowlist_opens_networks_and_host_names_only():
    allow = Allowlist.parse(["10.0.0.0/8", "crm.corp.example", "*.lab.example", "::1"])
    ten, eleven = ipaddress.ip_address("10.9.9.9"), ipaddress.ip_address("11.0.0.1")
    loop6, loop4 = ipaddress.ip_address("::1"), ipaddress.ip_address("127.0.0.1")
    assert check_addresses("x", [ten], allow) is None
    assert check_addresses("x", [loop6], allow) is None
    assert check_addresses("x", [loop4], allow) == "loopback address"
    assert check_addresses("CRM.corp.example.", [loop4], allow) is None
    assert check_addresses("ci.lab.example", [loop4], allow) is None
    assert check_addresses("lab.example.evil", [loop4], allow) == "loopback address"
    assert check_addresses("x", [ten, ipaddress.ip_address("192.168.0.1")], allow) == "private address"
    assert check_addresses("x", [eleven], allow) is None
