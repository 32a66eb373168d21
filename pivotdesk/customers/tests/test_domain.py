"""Identity normalisation: the same email or phone in any form is one identity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.customers.domain.identity import IdentityError, normalize_email, normalize_identity, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("0086 138 0013 8000", "+8613800138000"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers_normalise_to_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("bad", ["", "abc", "12", "+", "not a phone 123"])
def test_bad_phone_numbers_are_refused(bad):
    with pytest.raises(IdentityError):
        normalize_phone(bad)


def test_emails_lower_cased_and_stripped():
    assert normalize_email("  <Li.Wei@Example.COM> ") == "li.wei@example.com"
    with pytest.raises(IdentityError):
        normalize_email("no-at-sign")


@given(st.emails())
def test_email_normalisation_is_idempotent(email):
    once = normalize_email(email)
    assert normalize_email(once) == once


@given(st.text(max_size=300))
def test_any_text_either_normalises_or_raises_identity_error(raw):
    for kind in ("email", "phone", "wechat"):
        try:
            value = normalize_identity(kind, raw)
        except IdentityError:
            continue
        assert value == normalize_identity(kind, value)
