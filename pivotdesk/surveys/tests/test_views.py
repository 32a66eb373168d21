"""The customer's survey pages: a GET never records, the POST does; bad input is a translated 400; a wrong or
forged token a 404; an expired survey a 410; both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from pivotdesk.common.time import now
from pivotdesk.surveys import selectors
from pivotdesk.surveys.models import Survey
from pivotdesk.surveys.tests.helpers import csat
from pivotdesk.tickets.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(workspace):
    s = csat(workspace)
    Survey.objects.filter(pk=s.pk).update(language="en")
    s.refresh_from_db()
    return s


def test_the_one_click_link_shows_the_score_chosen_and_records_nothing(client, survey):
    response = client.get(selectors.answer_path(survey, score=4))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="score-4" value="4" checked' in html
    assert "How would you rate the support you received?" in html
    assert "<script" not in html and "style=" not in html
    survey.refresh_from_db()
    assert survey.status == "invited" and survey.score is None


def test_the_post_records_and_thanks(survey):
    client = Client(enforce_csrf_checks=True)
    page = client.get(selectors.answer_path(survey, score=5))
    csrf = page.cookies["csrftoken"].value
    response = client.post(
        selectors.answer_path(survey), {"score": "5", "comment": "Great", "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 302 and response["Location"].endswith("/thanks/")
    survey.refresh_from_db()
    assert (survey.status, survey.score, survey.comment) == ("answered", 5, "Great")
    thanks = client.get(response["Location"])
    assert "Thank you for your feedback!" in thanks.content.decode()


def test_not_solved_reopens_from_the_page(client, survey):
    client.post(selectors.answer_path(survey), {"score": "2", "not_solved": "1"})
    survey.ticket.refresh_from_db()
    assert survey.ticket.status == Status.OPEN
    page = client.get(client.post(selectors.answer_path(survey), {"score": "2", "not_solved": "1"})["Location"])
    assert "Your request is open again" in page.content.decode()


@pytest.mark.parametrize("score", ["", "9", "abc", "-1", "99999999999999999999"])
def test_a_bad_score_is_a_translated_400(client, survey, score):
    response = client.post(selectors.answer_path(survey) + "?lang=zh-hans", {"score": score, "comment": "x"})
    assert response.status_code == 400
    assert "请选择" in response.content.decode()
    survey.refresh_from_db()
    assert survey.status == "invited"


def test_wrong_or_foreign_tokens_are_404_in_the_customers_language(client, survey, other_workspace):
    path = selectors.answer_path(survey)
    token = path.removeprefix("/survey/").strip("/")
    foreign = csat(other_workspace)
    forged = f"{foreign.pk}.{token.split('.', 1)[1]}"
    for bad in (forged, token[:-3] + "abc", "1", "x.y.z"):
        response = client.get(f"/survey/{bad}/?lang=zh-hans")
        assert response.status_code == 404
        assert "链接无效" in response.content.decode()
        assert client.post(f"/survey/{bad}/", {"score": "5"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "invited"


def test_an_expired_survey_is_410_and_takes_no_answer(client, survey):
    Survey.objects.filter(pk=survey.pk).update(expires_at=now() - dt.timedelta(minutes=1))
    response = client.get(selectors.answer_path(survey, score=5))
    assert response.status_code == 410
    assert "This survey has closed" in response.content.decode()
    assert client.post(selectors.answer_path(survey), {"score": "5"}).status_code == 410
    survey.refresh_from_db()
    assert survey.score is None


def test_the_page_speaks_the_surveys_language_and_lang_switches_it(client, survey):
    Survey.objects.filter(pk=survey.pk).update(language="zh-hans")
    html = client.get(selectors.answer_path(survey)).content.decode()
    assert "您对我们的服务满意吗" in html
    html = client.get(selectors.answer_path(survey) + "?lang=en").content.decode()
    assert "How would you rate" in html
