"""The survey link's token: `<survey id>.<nonce>.<signature>`.

The nonce is random per survey and stored with it; the signature is an HMAC of id, workspace and nonce with the
installation's secret key. A link is honoured only when both match, so a guessed id, a copied database or a token
edited to point at another survey (of this or another workspace) finds nothing. Nothing else is needed to answer:
the link in the customer's message is the credential (as in Zendesk and Delighted), and it only ever answers its
own survey."""

from __future__ import annotations

import base64
import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "pivotdesk.surveys.answer-link"


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def _signature(survey_id: int, workspace_id: int, nonce: str) -> str:
    digest = salted_hmac(_SALT, f"{survey_id}.{workspace_id}.{nonce}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def make_token(*, survey_id: int, workspace_id: int, nonce: str) -> str:
    return f"{survey_id}.{nonce}.{_signature(survey_id, workspace_id, nonce)}"


def survey_id_of(token: str) -> int | None:
    """The survey id a token names (not yet verified), or None when it is not shaped like a token."""
    head, _, _rest = token.partition(".")
    if not head.isdigit() or len(head) > 18 or len(token) > 200:
        return None
    return int(head)


def verify(token: str, *, survey_id: int, workspace_id: int, nonce: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not nonce:
        return False
    return constant_time_compare(parts[1], nonce) and constant_time_compare(
        parts[2], _signature(survey_id, workspace_id, nonce)
    )
