"""The stable error codes of the surveys app (the `code` of a DomainError, never translated)."""

from __future__ import annotations

from enum import StrEnum

from pivotdesk.common.errors import DomainError


class SurveyErrorCode(StrEnum):
    LINK_INVALID = "survey_link_invalid"
    EXPIRED = "survey_expired"
    BAD_SCORE = "survey_bad_score"
    WRONG_KIND = "survey_wrong_kind"
    INVALID_VALUE = "survey_invalid_value"
    NOT_YOURS = "survey_not_yours"


class SurveyClosed(DomainError):
    """The survey can no longer be answered (expired, or withdrawn because the ticket was reopened): HTTP 410."""

    status_code = 410
    code = SurveyErrorCode.EXPIRED
