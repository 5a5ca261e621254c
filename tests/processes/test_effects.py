"""Effects that leave the case (template, webhook), carried out by intake in the transaction."""

from __future__ import annotations

from typing import Any

from leitplanke.cases import services as case_services
from leitplanke.cases.models import Interaction, InteractionKind
from leitplanke.customers.models import Customer, CustomerEmail
from leitplanke.intake.models import WebhookDelivery, WebhookEndpoint
from leitplanke.processes import services

from .test_services import draft_of


def with_effects(*effects: dict) -> Any:
    def change(data: dict) -> None:
        next(t for t in data["transitions"] if t["key"] == "start")["effects"] = list(effects)

    return change


def test_send_template_and_webhook_effects(owner: Any, agent: Any, make_case: Any, team_a: Any) -> None:
    endpoint = WebhookEndpoint.objects.create(url="https://crm.example.org/hook", description="crm", events=[], secret="s")
    services.definition_publish(
        actor=owner,
        definition=draft_of(
            owner, with_effects({"type": "send_template", "template": "reply"}, {"type": "webhook", "endpoint": "crm"})
        ),
    )
    customer = Customer.objects.create(customer_number="K-9", display_name="Muster, Max")
    CustomerEmail.objects.create(customer=customer, address="max@example.org", is_primary=True)
    case = make_case(actor=agent, team=team_a, customer=customer, language="de")
    case_services.case_transition(actor=agent, case=case, transition="start")
    sent = Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND_MESSAGE).get()
    assert sent.data["to"] == ["max@example.org"] and sent.subject.startswith("Ihr Anliegen")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.payload["transition"] == "start" and delivery.event == "case.transitioned"


def test_a_template_that_cannot_be_sent_is_noted(owner: Any, agent: Any, make_case: Any, team_a: Any) -> None:
    services.definition_publish(
        actor=owner, definition=draft_of(owner, with_effects({"type": "send_template", "template": "nope"}))
    )
    case = make_case(actor=agent, team=team_a)
    case_services.case_transition(actor=agent, case=case, transition="start")
    note = Interaction.objects.filter(case=case, kind=InteractionKind.SYSTEM).last()
    assert note.data["texts"]["en"] == [
        "The process step's message was not sent: there is no active template nope in the case's language."
    ]
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND_MESSAGE).exists()
