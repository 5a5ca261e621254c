"""The public check at /check/: taking it without login, back and forward, resuming, the
review of missing questions, bad and expired links, rate limits, the result and its PDF."""

from __future__ import annotations

import datetime as dt
import io

import pypdfium2
import pytest
from django.test import Client
from django.utils import timezone

from leitplanke.core.models import AuditEvent, RateLimitCounter
from leitplanke.maturity import public_views, services
from leitplanke.maturity.models import Assessment
from tests.maturity.conftest import answers_at, token_of

pytestmark = pytest.mark.django_db


def start(client: Client) -> str:
    response = client.post("/check/")
    assert response.status_code == 302
    return token_of(response["Location"])


def test_intro_is_public_and_bilingual(client):
    german = client.get("/check/", headers={"accept-language": "de"})
    assert german.status_code == 200 and "Wo steht Ihr Kundenservice?" in german.content.decode()
    english = client.get("/check/", headers={"accept-language": "en"})
    assert "Where does your customer service stand?" in english.content.decode()


def test_pages_go_back_and_forth_and_keep_answers(client):
    token = start(client)
    page = client.get(f"/check/r/{token}/page/1/")
    assert page.status_code == 200
    assert "Page 1 of 6" in page.content.decode() or "Seite 1 von 6" in page.content.decode()
    response = client.post(f"/check/r/{token}/page/1/", {"q-vision.role": "3", "go": "next"})
    assert response["Location"] == f"/check/r/{token}/page/2/"
    response = client.post(f"/check/r/{token}/page/2/", {"q-steering.kpis": "2", "go": "back"})
    assert response["Location"] == f"/check/r/{token}/page/1/"
    page = client.get(f"/check/r/{token}/page/1/").content.decode()
    assert 'name="q-vision.role" value="3" checked' in page
    assert Assessment.objects.get().answers == {"vision.role": 3, "steering.kpis": 2}
    # The resume link leads to the first page with open questions.
    assert client.get(f"/check/r/{token}/")["Location"] == f"/check/r/{token}/page/1/"
    back_from_first = client.post(f"/check/r/{token}/page/1/", {"go": "back"})
    assert back_from_first["Location"] == "/check/"


def test_a_manipulated_answer_value_is_a_form_error_that_keeps_the_other_answers(client):
    token = start(client)
    response = client.post(f"/check/r/{token}/page/1/", {"q-vision.role": "7", "q-vision.decisions": "2", "go": "next"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="question has-error" id="q-vision.role"' in body
    assert 'name="q-vision.decisions" value="2" checked' in body
    assert Assessment.objects.get().answers == {}


def test_review_lists_missing_questions_and_refuses_the_result(client):
    token = start(client)
    answers = answers_at(2)
    del answers["planning.budget"]
    client.post(f"/check/r/{token}/page/1/", {f"q-{k}": v for k, v in answers.items()})
    response = client.post(f"/check/r/{token}/review/", headers={"accept-language": "en"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "1 question is not answered yet" in body
    assert f'href="/check/r/{token}/page/3/#q-planning.budget"' in body
    assert client.get(f"/check/r/{token}/result/")["Location"] == f"/check/r/{token}/review/"


def test_complete_check_shows_the_result_and_a_pdf_with_umlauts(client, public_check):
    token = public_check(answers_at(2, steering__goals=3, planning__roadmap=1))
    result = client.get(f"/check/r/{token}/result/", headers={"accept-language": "de"})
    body = result.content.decode()
    assert result.status_code == 200
    assert "Optimierend" in body and "Ehrgeizige Ziele ohne Roadmap" in body
    assert 'data-testid="radar"' in body and "<script" not in body.split("<body", 1)[1].replace('<script src="/static/', "")
    # A finished check cannot be changed any more: its pages lead to the result.
    assert client.get(f"/check/r/{token}/page/2/")["Location"] == f"/check/r/{token}/result/"
    pdf = client.get(f"/check/r/{token}/report.pdf", headers={"accept-language": "de"})
    assert pdf["Content-Type"] == "application/pdf"
    document = pypdfium2.PdfDocument(io.BytesIO(pdf.content))
    text = "".join(document[index].get_textpage().get_text_range() for index in range(len(document)))
    assert "Gesamtstufe" in text and "Ziele & Steuerung" in text and "Kundenbindung" in text
    assert "Qualitätsmanagement" in text or "Geschäftsführung" in text or "Ursachen" in text
    assert "Übertragung" in text or "übersetzen" in text


def test_bad_and_expired_links_get_friendly_pages(client):
    assert client.get("/check/r/not-a-real-token-at-all-xxxx/result/").status_code == 404
    assert "This link does not work" in client.get("/check/r/x/", headers={"accept-language": "en"}).content.decode()
    token = start(client)
    Assessment.objects.update(updated_at=timezone.now() - dt.timedelta(days=120))
    expired = client.get(f"/check/r/{token}/page/1/", headers={"accept-language": "en"})
    assert expired.status_code == 410 and "This link has expired" in expired.content.decode()
    assert client.get("/check/invitation/forged:signature/").status_code == 404


def test_starting_is_rate_limited_without_storing_the_address(client, monkeypatch, fixed_rate_limit_window):
    monkeypatch.setattr(public_views, "STARTS_PER_HOUR", 2)
    assert client.post("/check/", REMOTE_ADDR="203.0.113.7").status_code == 302
    assert client.post("/check/", REMOTE_ADDR="203.0.113.7").status_code == 302
    limited = client.post("/check/", REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429 and limited["Retry-After"]
    assert client.post("/check/", REMOTE_ADDR="198.51.100.1").status_code == 302
    assert not any("203.0.113.7" in key for key in RateLimitCounter.objects.values_list("key", flat=True))
    assert Assessment.objects.count() == 3


def test_contact_details_only_with_consent(client, public_check):
    token = public_check(answers_at(1))
    refused = client.post(f"/check/r/{token}/contact/", {"name": "Erika", "email": "erika@example.de"})
    assert refused.status_code == 400 and 'value="Erika"' in refused.content.decode()
    assert Assessment.objects.get().contact_email == ""
    saved = client.post(f"/check/r/{token}/contact/", {"name": "Erika", "email": "erika@example.de", "consent": "on"})
    assert saved.status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.contact_email == "erika@example.de" and assessment.contact_consent_at is not None
    assert not AuditEvent.objects.filter(object_type="maturity.assessment").exists()


def test_invitation_starts_an_anonymous_response_of_its_group(client, make_user):
    from leitplanke.maturity import links

    admin = make_user("administrator")
    campaign = services.campaign_create(actor=admin, name="Standort Nord")
    url = f"/check/invitation/{links.invitation_token(campaign, 'service_team')}/"
    page = client.get(url, headers={"accept-language": "en"})
    assert page.status_code == 200 and "Standort Nord" in page.content.decode() and "Service team" in page.content.decode()
    response = client.post(url)
    assert response.status_code == 302
    response_row = Assessment.objects.get()
    assert (response_row.campaign_id, response_row.group, response_row.owner_id) == (campaign.pk, "service_team", None)
    services.campaign_close(actor=admin, campaign=campaign)
    closed = client.get(url, headers={"accept-language": "en"})
    assert closed.status_code == 410 and "This survey is closed" in closed.content.decode()
    resumed = client.post(f"/check/r/{token_of(response['Location'])}/page/1/", {"q-vision.role": "2"})
    assert resumed.status_code == 410


def test_htmx_autosave_updates_the_progress(client):
    token = start(client)
    response = client.post(
        f"/check/r/{token}/page/1/", {"q-vision.role": "2", "go": "stay"}, headers={"HX-Request": "true"}, follow=True
    )
    assert response.status_code == 200
    assert 'value="1"' in response.content.decode().split('id="check-progress"', 1)[1][:300]
