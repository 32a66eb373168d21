"""Webhook signature helpers: Twilio's published vectors, and properties of every scheme (pure, no database)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.channels.domain.signatures import (
    line_signature,
    sha256_header,
    twilio_signature,
    twilio_url_variants,
    verify_line_signature,
    verify_sha256_header,
    verify_twilio_signature,
)

TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


def test_twilio_documented_example():
    assert twilio_signature("12345", TWILIO_URL, TWILIO_PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert verify_twilio_signature("12345", [TWILIO_URL], list(reversed(TWILIO_PARAMS)), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_twilio_repeated_parameters_are_sorted_like_twilios_validators():
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]
    assert twilio_signature("12345", TWILIO_URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_twilio_url_with_and_without_default_port_both_verify():
    signed_with_port = twilio_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", TWILIO_PARAMS)
    assert verify_twilio_signature("12345", [TWILIO_URL], TWILIO_PARAMS, signed_with_port)
    assert twilio_url_variants("http://h:8080/x") == ["http://h:8080/x"]
    assert twilio_url_variants("https://h:443/x") == ["https://h:443/x", "https://h/x"]


def test_twilio_tampering_fails():
    good = twilio_signature("12345", TWILIO_URL, TWILIO_PARAMS)
    assert not verify_twilio_signature("12345", [TWILIO_URL + "&x=1"], TWILIO_PARAMS, good)
    assert not verify_twilio_signature("12345", [TWILIO_URL], [*TWILIO_PARAMS[:-1], ("To", "+1")], good)
    assert not verify_twilio_signature("", [TWILIO_URL], TWILIO_PARAMS, good)
    assert not verify_twilio_signature("12345", [TWILIO_URL], TWILIO_PARAMS, "签名")


secrets = st.text(min_size=1, max_size=40)
bodies = st.binary(max_size=400)


@given(secret=secrets, body=bodies)
def test_sha256_header_matches_an_independent_hmac_and_verifies(secret, body):
    header = sha256_header(secret, body)
    assert header == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert verify_sha256_header(secret, body, header)
    assert verify_sha256_header(secret, body, header.upper().replace("SHA256=", "sha256="))


@given(secret=secrets, body=bodies, other=bodies, junk=st.text(max_size=80))
def test_sha256_header_rejects_other_bodies_and_junk(secret, body, other, junk):
    header = sha256_header(secret, body)
    if other != body:
        assert not verify_sha256_header(secret, other, header)
    assert not verify_sha256_header(secret, body, junk) or junk.strip().lower() == header
    assert not verify_sha256_header("", body, header) and not verify_sha256_header(secret, body, None)


@given(secret=secrets, body=bodies, junk=st.text(max_size=80))
def test_line_signature_is_base64_hmac_and_rejects_junk(secret, body, junk):
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    assert line_signature(secret, body) == expected and verify_line_signature(secret, body, expected)
    assert verify_line_signature(secret, body, junk) == (junk.strip() == expected)


@given(
    token=secrets,
    params=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_twilio_signature_ignores_parameter_order(token, params, order):
    shuffled = list(params)
    order.shuffle(shuffled)
    assert twilio_signature(token, "https://x.test/a", params) == twilio_signature(token, "https://x.test/a", shuffled)
