"""Signing and verification: pure functions, property-tested (the back-off is common's: common/tests/test_outbox)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.webhooks.domain.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    compute_signature,
    parse_header,
    signature_header,
    signed_headers,
    verify,
)

secrets_ = st.text(min_size=1, max_size=64)
bodies = st.binary(max_size=2048)
timestamps = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)


@given(secret=secrets_, body=bodies, t=timestamps)
def test_sign_then_verify_round_trips(secret, body, t):
    header = signature_header(secret, body, timestamp=t)
    assert verify(secret, header, body, tolerance_s=300, now=t + 10) == t


@given(secret=secrets_, body=bodies, t=timestamps, data=st.data())
def test_any_tampered_body_fails(secret, body, t, data):
    header = signature_header(secret, body, timestamp=t)
    other = data.draw(bodies.filter(lambda b: b != body), label="tampered body")
    with pytest.raises(SignatureError):
        verify(secret, header, other, now=t)


@given(secret=secrets_, other=secrets_, body=bodies, t=timestamps)
def test_a_different_secret_fails(secret, other, body, t):
    if other == secret:
        return
    header = signature_header(secret, body, timestamp=t)
    with pytest.raises(SignatureError):
        verify(other, header, body, now=t)


@given(secret=secrets_, body=bodies, t=timestamps, shift=st.integers(min_value=1, max_value=10_000))
def test_a_changed_timestamp_fails(secret, body, t, shift):
    signature = compute_signature(secret, t, body)
    forged = f"t={t + shift},v1={signature}"
    with pytest.raises(SignatureError):
        verify(secret, forged, body, tolerance_s=100_000, now=t)


@given(
    secret=secrets_,
    body=bodies,
    t=timestamps,
    tolerance=st.integers(min_value=0, max_value=3600),
    late=st.integers(min_value=1, max_value=10**6),
)
def test_old_timestamps_fail(secret, body, t, tolerance, late):
    header = signature_header(secret, body, timestamp=t)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(secret, header, body, tolerance_s=tolerance, now=t + tolerance + late)


@given(secret=secrets_, body=bodies, t=timestamps, position=st.integers(min_value=0, max_value=63))
def test_any_flipped_signature_character_fails(secret, body, t, position):
    signature = compute_signature(secret, t, body)
    flipped = signature[:position] + ("0" if signature[position] != "0" else "1") + signature[position + 1 :]
    with pytest.raises(SignatureError):
        verify(secret, f"t={t},v1={flipped}", body, now=t)


def test_any_of_several_signatures_may_match_during_a_rotation():
    body = b'{"a":1}'
    header = (
        f"t=1700000000,v1={compute_signature('old', 1700000000, body)},v1={compute_signature('new', 1700000000, body)}"
    )
    assert verify("new", header, body, now=1700000000) == 1700000000


@pytest.mark.parametrize("header", ["", "v1=abc", "t=abc,v1=abc", "t=1700000000", "garbage"])
def test_malformed_headers_are_rejected(header):
    with pytest.raises(SignatureError):
        parse_header(header)


def test_str_and_bytes_bodies_sign_the_same():
    assert compute_signature("s", 1, "héllo") == compute_signature("s", 1, "héllo".encode())


def test_signed_headers_carry_event_delivery_and_timestamp():
    headers = signed_headers("s", b"{}", event="ticket.created", delivery_id="42", timestamp=1700000000)
    assert headers[EVENT_HEADER] == "ticket.created"
    assert headers[DELIVERY_HEADER] == "42"
    assert headers[TIMESTAMP_HEADER] == "1700000000"
    assert headers[SIGNATURE_HEADER].startswith("t=1700000000,v1=")
    assert verify("s", headers[SIGNATURE_HEADER], b"{}", now=1700000000) == 1700000000
