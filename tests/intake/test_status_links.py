"""Public status links (issue 19, item 9b/9c): they expire, can be revoked on the case page,
and a public-form submission with the address of an existing customer is not attached to
that customer until the address is confirmed — its submitter sees only their own messages."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from leitplanke.accounts.models import User
from leitplanke.cases.models import Case, InteractionKind
from leitplanke.core.errors import NotFound
from leitplanke.core.models import AuditEvent
from leitplanke.customers import services as customer_services
from leitplanke.customers.models import ConsentRecord, Customer
from leitplanke.intake import public, replies, status_links
from leitplanke.intake.models import PublicContact, StatusLink
from tests.intake.test_public import form_data

pytestmark = pytest.mark.django_db
DAY = 24 * 3600


@pytest.fixture
def web_client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.9")


def submit(client: Client, capture: Any, **overrides: Any) -> tuple[Case, str]:
    with capture(execute=True):
        response = client.post("/complaint/", form_data(**overrides))
    assert response.status_code == 302, response.content.decode()[:500]
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    return Case.objects.latest("id"), token


def issued(monkeypatch: pytest.MonkeyPatch, case: Case, *, days_ago: float, **kwargs: Any) -> str:
    """A link issued `days_ago` (the signer's timestamp)."""
    then = time.time() - days_ago * DAY
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: then)
        return status_links.status_link_token(case, **kwargs)


def status(client: Client, token: str) -> Any:
    return client.get(f"/complaint/status/{token}/")


# --- expiry ---------------------------------------------------------------------------------


def test_a_link_expires_180_days_after_it_was_issued(web_client, django_capture_on_commit_callbacks, monkeypatch) -> None:
    case, _token = submit(web_client, django_capture_on_commit_callbacks)
    assert status(web_client, issued(monkeypatch, case, days_ago=179)).status_code == 200
    expired = status(web_client, issued(monkeypatch, case, days_ago=181))
    assert expired.status_code == 410
    page = expired.content.decode()
    assert case.reference not in page and "Abschlag" not in page and "expired" in page
    posted = web_client.post(f"/complaint/status/{issued(monkeypatch, case, days_ago=181)}/", {"message": "late"})
    assert posted.status_code == 410
    assert not case.interactions.filter(body_text="late").exists()


def test_a_closed_case_keeps_its_link_for_180_days_after_closing(
    web_client, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    case, _token = submit(web_client, django_capture_on_commit_callbacks)
    old_link = issued(monkeypatch, case, days_ago=300)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - dt.timedelta(days=100))
    assert status(web_client, old_link).status_code == 200
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - dt.timedelta(days=181))
    assert status(web_client, old_link).status_code == 410


def test_the_lifetime_is_configurable(web_client, django_capture_on_commit_callbacks, monkeypatch, settings) -> None:
    case, _token = submit(web_client, django_capture_on_commit_callbacks)
    settings.LEITPLANKE_STATUS_LINK_DAYS = 1
    assert status(web_client, issued(monkeypatch, case, days_ago=0.5)).status_code == 200
    assert status(web_client, issued(monkeypatch, case, days_ago=2)).status_code == 410


def test_a_link_signed_with_another_key_is_refused(web_client, django_capture_on_commit_callbacks) -> None:
    from leitplanke.config.secret_key import DEV_SECRET_KEY

    case, _token = submit(web_client, django_capture_on_commit_callbacks)
    forged = signing.dumps({"case": case.pk, "ref": case.reference, "g": 0}, key=DEV_SECRET_KEY, salt=status_links.STATUS_SALT)
    assert status(web_client, forged).status_code == 404


# --- revocation ------------------------------------------------------------------------------


def test_an_agent_revokes_the_links_on_the_case_page(
    web_client, django_capture_on_commit_callbacks, make_user: Callable[..., User], client_for
) -> None:
    case, token = submit(web_client, django_capture_on_commit_callbacks)
    legacy = signing.dumps({"case": case.pk, "ref": case.reference}, salt=status_links.STATUS_SALT)  # before generations
    assert status(web_client, token).status_code == 200 and status(web_client, legacy).status_code == 200
    agent = client_for(make_user("quality_manager"))
    assert "Revoke status links" in agent.get(f"/intake/cases/{case.pk}/public-access/").content.decode()
    response = agent.post(f"/intake/cases/{case.pk}/public-access/", {"action": "revoke"})
    assert response.status_code == 200
    new_link = re.search(r'class="wrap-anywhere new-status-link">([^<]+)<', response.content.decode()).group(1)
    assert status(web_client, token).status_code == 404
    assert status(web_client, legacy).status_code == 404
    assert web_client.get("/complaint/status/" + new_link.rsplit("/complaint/status/", 1)[1]).status_code == 200
    event = AuditEvent.objects.get(action="case.status_link_revoke")
    assert event.object_id == str(case.pk) and event.after == {"generation": 1}
    assert case.interactions.filter(kind=InteractionKind.SYSTEM, data__reason="status_link_revoked").exists()
    # the placeholder in a reply carries a link of the new generation (issued anew: its
    # timestamp, and so its signature, may differ from the one shown by a second)
    mailed = replies.placeholder_values(Case.objects.get(pk=case.pk))["status_url"].rsplit("/complaint/status/", 1)[1]
    assert mailed.split(":", 1)[0] == new_link.rsplit("/complaint/status/", 1)[1].split(":", 1)[0]
    assert web_client.get("/complaint/status/" + mailed).status_code == 200


def test_only_who_may_edit_the_case_revokes(
    web_client, django_capture_on_commit_callbacks, make_user: Callable[..., User], client_for
) -> None:
    case, token = submit(web_client, django_capture_on_commit_callbacks)
    auditor = client_for(make_user("auditor"))
    assert "Revoke status links" not in auditor.get(f"/intake/cases/{case.pk}/public-access/").content.decode()
    assert auditor.post(f"/intake/cases/{case.pk}/public-access/", {"action": "revoke"}).status_code == 403
    outsider = client_for(make_user("agent"))  # no team: does not see the case
    assert outsider.get(f"/intake/cases/{case.pk}/public-access/").status_code == 404
    assert outsider.post(f"/intake/cases/{case.pk}/public-access/", {"action": "revoke"}).status_code == 404
    assert Client().post(f"/intake/cases/{case.pk}/public-access/", {"action": "revoke"}).status_code == 302
    assert status(web_client, token).status_code == 200
    assert not AuditEvent.objects.filter(action="case.status_link_revoke").exists()


# --- a typed address of an existing customer --------------------------------------------------


@pytest.fixture
def erika(db: Any) -> Customer:
    return customer_services.customer_create(
        actor=None, kind="person", first_name="Erika", last_name="Mustermann", emails=["erika@example.de"]
    )


def test_a_typed_address_of_a_customer_is_not_attached_until_confirmed(
    web_client, django_capture_on_commit_callbacks, erika: Customer
) -> None:
    case, token = submit(web_client, django_capture_on_commit_callbacks)
    assert case.customer is None
    contact = PublicContact.objects.get(case=case)
    assert contact.matched_customer == erika and contact.confirmed_at is None
    assert not ConsentRecord.objects.filter(customer=erika).exists()
    # one e-mail to the address: the confirmation request, not the acknowledgement
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["erika@example.de"]
    assert "/complaint/confirm/" in mail.outbox[0].body
    thanks = web_client.get(f"/complaint/thanks/{token}/").content.decode()
    assert case.reference in thanks and "confirm" in thanks
    page = status(web_client, token).content.decode()
    assert "Mein monatlicher Abschlag" in page
    assert "/complaint/confirm/" not in page  # the confirmation link is for the mailbox only


def test_replies_to_the_real_customer_never_reach_the_unconfirmed_submitter(
    web_client, django_capture_on_commit_callbacks, erika: Customer, make_user: Callable[..., User], client_for
) -> None:
    case, token = submit(web_client, django_capture_on_commit_callbacks)
    agent = make_user("quality_manager")
    # written to the submitter while unconfirmed: they see it, with their own restricted link
    with django_capture_on_commit_callbacks(execute=True):
        replies.reply_queue(
            actor=agent, case=case, to="erika@example.de", subject="Rückfrage", body="Welche Zählernummer? {{ status_url }}"
        )
    to_submitter = case.interactions.get(subject__startswith="Rückfrage")
    link_token = to_submitter.body_text.rstrip("/").rsplit("/", 1)[-1]
    assert signing.loads(link_token, salt=status_links.STATUS_SALT)["c"] == PublicContact.objects.get(case=case).pk
    assert "Welche Zählernummer" in status(web_client, token).content.decode()
    # the submitter answers from their page: kept in their view
    assert web_client.post(f"/complaint/status/{token}/", {"message": "Zähler 4711"}).status_code == 302
    assert "Zähler 4711" in status(web_client, token).content.decode()
    # an agent confirms: the case is Erika's now
    response = client_for(agent).post(f"/intake/cases/{case.pk}/public-access/", {"action": "confirm"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.customer == erika
    assert AuditEvent.objects.filter(action="public_contact.confirm").exists()
    assert ConsentRecord.objects.filter(customer=erika, purpose="processing").exists()
    # what agents now write to the customer does not show on the submitter's page
    with django_capture_on_commit_callbacks(execute=True):
        replies.reply_queue(
            actor=agent, case=case, to="erika@example.de", subject="Ihr Vertrag", body="Ihr Vertrag 99-123 läuft bis 2027."
        )
    submitter_page = status(web_client, token).content.decode()
    assert "Vertrag 99-123" not in submitter_page and "Zähler 4711" in submitter_page
    customer_page = status(web_client, status_links.status_link_token(case)).content.decode()
    assert "Vertrag 99-123" in customer_page
    # mail sent to the customer now carries the customer's link
    assert "c" not in signing.loads(
        replies.placeholder_values(case)["status_url"].rstrip("/").rsplit("/", 1)[-1], salt=status_links.STATUS_SALT
    )


def test_the_owner_of_the_address_confirms_by_the_link(web_client, django_capture_on_commit_callbacks, erika: Customer) -> None:
    case, _token = submit(web_client, django_capture_on_commit_callbacks)
    confirm_url = re.search(r"https?://[^/]+(/complaint/confirm/[^/\s]+/)", mail.outbox[0].body).group(1)
    owner = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="198.51.100.3")
    page = owner.get(confirm_url)
    assert page.status_code == 200 and "Yes, I sent it" in page.content.decode()
    case.refresh_from_db()
    assert case.customer is None  # opening the link (a mail scanner) confirms nothing
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = owner.post(confirm_url)
    assert confirmed.status_code == 200
    case.refresh_from_db()
    assert case.customer == erika
    contact = PublicContact.objects.get(case=case)
    assert contact.confirmed_via == "email" and contact.confirmed_by is None
    full_link = re.search(r'href="[^"]*(/complaint/status/[^/"]+/)"', confirmed.content.decode()).group(1)
    assert owner.get(full_link).status_code == 200
    assert owner.post(confirm_url).status_code == 200  # idempotent
    assert AuditEvent.objects.filter(action="public_contact.confirm").count() == 1
    assert Client().get("/complaint/confirm/forged/").status_code == 404


def test_a_new_address_still_creates_a_customer_at_once(web_client, django_capture_on_commit_callbacks) -> None:
    case, token = submit(web_client, django_capture_on_commit_callbacks, email="neu@example.de")
    assert case.customer is not None and not PublicContact.objects.exists()
    assert "c" not in signing.loads(token, salt=status_links.STATUS_SALT)


# --- at the same moment ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_confirming_twice_at_once_attaches_once(make_user: Callable[..., User], tmp_path: Any) -> None:
    """The owner clicks the link while an agent confirms on the case page."""
    from tests.cases.conftest import ensure_default_case_types
    from tests.concurrency import in_parallel, shared_database

    ensure_default_case_types()
    erika = customer_services.customer_create(actor=None, kind="person", last_name="Mustermann", emails=["erika@example.de"])
    agent = make_user("quality_manager")
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.10")
    response = client.post("/complaint/", form_data())
    assert response.status_code == 302
    contact = PublicContact.objects.get()
    with shared_database(tmp_path):
        in_parallel(lambda n: public.public_contact_confirm(actor=None if n == 0 else agent, contact=contact), 2)
        assert Case.objects.get(pk=contact.case_id).customer_id == erika.pk
        assert AuditEvent.objects.filter(action="public_contact.confirm").count() == 1
        assert ConsentRecord.objects.filter(customer=erika).count() == 1
        assert Case.objects.get(pk=contact.case_id).interactions.filter(kind="field_change").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_revocations_at_once_both_count(make_user: Callable[..., User], tmp_path: Any) -> None:
    from tests.cases.conftest import ensure_default_case_types
    from tests.concurrency import in_parallel, shared_database

    ensure_default_case_types()
    agent = make_user("quality_manager")
    Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.11").post("/complaint/", form_data(email="neu@example.de"))
    case = Case.objects.get()
    old = status_links.status_link_token(case)
    with shared_database(tmp_path):
        links = in_parallel(lambda n: status_links.status_link_revoke(actor=agent, case=case), 2)
        assert len(set(links)) == 2
        assert StatusLink.objects.get(case=case).generation == 2
        assert AuditEvent.objects.filter(action="case.status_link_revoke").count() == 2
        with pytest.raises(NotFound):
            status_links.status_access(old)
        tokens = [link.rstrip("/").rsplit("/", 1)[1] for link in links]
        assert {signing.loads(token, salt=status_links.STATUS_SALT)["g"] for token in tokens} == {1, 2}
