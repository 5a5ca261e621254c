"""Effects of process transitions that leave the case: send a template, call a webhook.

`cases.services.case_transition` announces them with the `case.transitioned` event
(`payload["effects"]`); this subscriber carries them out in the same transaction:

- ``{"type": "send_template", "template": KEY}``: the active reply template with that key
  in the case's language (for its case type, else for all types), latest version, to the
  address a reply would go to; queued like any reply and sent by the worker. Without a
  template or an address nothing is sent and the timeline says why.
- ``{"type": "webhook", "endpoint": ID or description}``: one delivery of the event to that
  active endpoint (also when the endpoint is not subscribed to `case.transitioned`).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy

from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case, InteractionKind
from leitplanke.core.background import enqueue_on_commit

from .models import ReplyTemplate, WebhookDelivery, WebhookEndpoint
from .replies import _queue, placeholder_values, render_template_text, send_outbound_email
from .selectors import reply_recipient
from .webhooks import deliver_webhook


def on_event(event: str, payload: dict[str, Any]) -> None:
    if event != "case.transitioned" or not payload.get("effects"):
        return
    case = Case.objects.select_related("case_type", "customer").get(pk=payload["case_id"])
    for effect in payload["effects"]:
        if effect.get("type") == "send_template":
            _send_template(case, str(effect.get("template") or ""))
        elif effect.get("type") == "webhook":
            _call_webhook(str(effect.get("endpoint") or ""), payload)


def template_choices(process_key: str) -> list[tuple[str, str]]:
    """The reply templates a `send_template` effect may name (the process editor's choices)."""
    names: dict[str, str] = {}
    for template in ReplyTemplate.objects.filter(is_active=True).order_by("key", "language"):
        names.setdefault(template.key, template.name)
    return [(key, f"{name} ({key})") for key, name in names.items()]


def webhook_choices(process_key: str) -> list[tuple[str, str]]:
    """The webhook endpoints a `webhook` effect may name: by description, else by id."""
    return [
        (endpoint.description or str(endpoint.pk), f"{endpoint.description or endpoint.pk} — {endpoint.url}")
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("description", "pk")
    ]


NOT_SENT = gettext_lazy("The process step's message was not sent: %(reason)s.")
NO_TEMPLATE = gettext_lazy("there is no active template %(key)s in the case's language")
NO_ADDRESS = gettext_lazy("the case has no e-mail address to answer to")
TITLE = gettext_lazy("Process step")


def _note(case: Case, reason: Any, **params: Any) -> None:
    """A timeline entry in both languages (written once, read in the reader's)."""
    texts, titles = {}, {}
    for language in ("de", "en"):
        with translation.override(language):
            texts[language] = [str(NOT_SENT) % {"reason": str(reason) % params}]
            titles[language] = str(TITLE)
    case_services.interaction_add(
        actor=None,
        case=case,
        kind=InteractionKind.SYSTEM,
        body_text=texts["en"][0],
        data={"texts": texts, "title": titles},
    )


def _send_template(case: Case, key: str) -> None:
    templates = ReplyTemplate.objects.filter(key=key, is_active=True, language=case.language or "de")
    template = templates.filter(case_type=case.case_type).first() or templates.filter(case_type__isnull=True).first()
    version = template.versions.order_by("-number").first() if template else None
    to = reply_recipient(case)
    if version is None or not to:
        _note(case, NO_TEMPLATE if version is None else NO_ADDRESS, key=key)
        return
    values = placeholder_values(case)
    interaction = _queue(
        case=case,
        actor=None,
        to=to,
        subject=render_template_text(version.subject, values),
        body=render_template_text(version.body, values),
        purpose="reply",
    )
    enqueue_on_commit(send_outbound_email, interaction.pk)


def _call_webhook(name: str, payload: dict[str, Any]) -> None:
    endpoints = WebhookEndpoint.objects.filter(is_active=True)
    chosen = endpoints.filter(pk=int(name)) if name.isdigit() else endpoints.filter(description=name)
    for endpoint in chosen:
        if "case.transitioned" in (endpoint.events or []):
            continue  # subscribed to the event: webhooks.on_event delivered it already
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="case.transitioned", payload=payload)
        enqueue_on_commit(deliver_webhook, delivery.pk)
