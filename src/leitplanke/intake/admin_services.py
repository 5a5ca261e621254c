"""Administration of the intake: mailboxes, reprocessing quarantined mail, template activity.

Writes only here (the lead's `services.py` keeps the ingest pipeline). Every change is
audited in its own transaction; mailbox passwords are stored encrypted and never appear
in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor
from leitplanke.accounts.permissions import MANAGE_ORGANISATION, MANAGE_TEMPLATES, has_capability
from leitplanke.core.audit import audit_record
from leitplanke.core.crypto import encrypt_secret
from leitplanke.core.errors import PermissionDenied, ValidationFailed

from . import mailparse
from .imap import FetchReport, fetch_mailbox
from .models import InboundEmail, InboundStatus, Mailbox, ReplyTemplate
from .selectors import REPROCESSED_PREFIX
from .services import IngestResult, email_ingest, route_parsed

MAILBOX_FIELDS = (
    "name",
    "address",
    "host",
    "port",
    "use_ssl",
    "username",
    "folder",
    "processed_folder",
    "default_case_type",
    "default_team",
    "brand",
    "is_active",
)


def _require(actor: Actor, capability: str) -> None:
    if actor is not None and not has_capability(actor, capability):
        raise PermissionDenied()


def _mailbox_snapshot(mailbox: Mailbox) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in MAILBOX_FIELDS:
        value = getattr(mailbox, name)
        data[name] = value.pk if hasattr(value, "pk") else value
    data["password_set"] = bool(mailbox.password_encrypted)
    return data


def _validate_mailbox(values: dict[str, Any], *, exclude: int | None = None) -> None:
    errors: dict[str, list[str]] = {}
    address = (values.get("address") or "").strip().lower()
    if not address or "@" not in address:
        errors["address"] = ["Enter the mailbox's e-mail address."]
    elif Mailbox.objects.filter(address__iexact=address).exclude(pk=exclude or 0).exists():
        errors["address"] = ["Another mailbox already uses this address."]
    if not (values.get("host") or "").strip():
        errors["host"] = ["Enter the IMAP server's host name."]
    port = values.get("port")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        errors["port"] = ["Enter a port between 1 and 65535."]
    if not (values.get("username") or "").strip():
        errors["username"] = ["Enter the user name for the IMAP login."]
    if values.get("default_case_type") is None:
        errors["default_case_type"] = ["Choose the case type for new cases from this mailbox."]
    if errors:
        raise ValidationFailed(field_errors=errors)


def mailbox_create(*, actor: Actor, password: str, **values: Any) -> Mailbox:
    """Creates a mailbox; the password is stored encrypted (core.crypto)."""
    _require(actor, MANAGE_ORGANISATION)
    unknown = set(values) - set(MAILBOX_FIELDS)
    if unknown:
        raise TypeError(f"unknown mailbox fields: {', '.join(sorted(unknown))}")
    _validate_mailbox(values)
    if not password:
        raise ValidationFailed(field_errors={"password": ["Enter the password for the IMAP login."]})
    values["address"] = values["address"].strip().lower()
    with transaction.atomic():
        mailbox = Mailbox.objects.create(password_encrypted=encrypt_secret(password), **values)
        audit_record(actor=actor or "system", action="mailbox.create", obj=mailbox, after=_mailbox_snapshot(mailbox))
    return mailbox


def mailbox_update(*, actor: Actor, mailbox: Mailbox, password: str = "", **values: Any) -> Mailbox:
    """Changes a mailbox; an empty password keeps the stored one."""
    _require(actor, MANAGE_ORGANISATION)
    unknown = set(values) - set(MAILBOX_FIELDS)
    if unknown:
        raise TypeError(f"unknown mailbox fields: {', '.join(sorted(unknown))}")
    merged = {name: getattr(mailbox, name) for name in MAILBOX_FIELDS} | values
    _validate_mailbox(merged, exclude=mailbox.pk)
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        before = _mailbox_snapshot(mailbox)
        for name, value in values.items():
            setattr(mailbox, name, value.strip().lower() if name == "address" else value)
        if password:
            mailbox.password_encrypted = encrypt_secret(password)
        if (
            before.get("host") != mailbox.host
            or before.get("folder") != mailbox.folder
            or before.get("username") != mailbox.username
        ):
            # Another server or folder: its UIDs mean something else, start over (Message-IDs de-duplicate).
            mailbox.uid_validity, mailbox.last_uid = None, 0
        mailbox.save()
        after = _mailbox_snapshot(mailbox)
        if password:
            after["password_changed"] = True
        audit_record(actor=actor or "system", action="mailbox.update", obj=mailbox, before=before, after=after)
    return mailbox


def mailbox_fetch_now(*, actor: Actor, mailbox: Mailbox) -> FetchReport:
    """Fetches new mail from one mailbox at once (the worker does this regularly)."""
    _require(actor, MANAGE_ORGANISATION)
    with transaction.atomic():
        audit_record(actor=actor or "system", action="mailbox.fetch_now", obj=mailbox, after={"address": mailbox.address})
    return fetch_mailbox(mailbox)


def inbound_reprocess(*, actor: Actor, inbound: InboundEmail) -> IngestResult:
    """Runs a quarantined message's stored raw bytes through the intake again.

    The new attempt is a new InboundEmail (the raw bytes are kept again, by design of
    `email_ingest`); the old record stays quarantined for the record, its reason says
    which record replaced it, so it is not offered for reprocessing twice.
    """
    _require(actor, MANAGE_ORGANISATION)
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update(of=("self",)).select_related("mailbox").get(pk=inbound.pk)
        if inbound.status != InboundStatus.QUARANTINED:
            raise ValidationFailed("Only quarantined messages can be reprocessed.")
        if inbound.reason.startswith(REPROCESSED_PREFIX):
            raise ValidationFailed("This message was reprocessed already.")
        with inbound.raw.open("rb") as handle:
            raw = handle.read()
        result = email_ingest(raw, source=inbound.source, mailbox=inbound.mailbox)
        before = inbound.reason
        reason = f"{REPROCESSED_PREFIX}{result.inbound.pk} ({result.status}); before: {before}"[:2000]
        InboundEmail.objects.filter(pk=inbound.pk).update(reason=reason)
        audit_record(
            actor=actor or "system",
            action="inbound_email.reprocess",
            obj=inbound,
            before={"reason": before[:500]},
            after={"reason": reason[:500], "new_inbound": result.inbound.pk, "status": result.status},
        )
    inbound.reason = reason
    return result


def inbound_accept(*, actor: Actor, inbound: InboundEmail) -> IngestResult:
    """An administrator accepts a message held for review: it is routed again without the
    hold (a stranger's message joins the case its subject names; a message an upstream
    filter called spam opens or joins a case like any other), on the same inbound record."""
    _require(actor, MANAGE_ORGANISATION)
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update(of=("self",)).select_related("mailbox").get(pk=inbound.pk)
        if inbound.status != InboundStatus.REVIEW:
            raise ValidationFailed(_("Only messages held for review can be accepted."))
        with inbound.raw.open("rb") as handle:
            parsed = mailparse.parse_message(handle.read())
        before = {"status": inbound.status, "reason_code": inbound.reason_code}
        result = route_parsed(inbound, parsed, inbound.mailbox, accepted=True)
        audit_record(
            actor=actor or "system",
            action="inbound_email.accept",
            obj=inbound,
            before=before,
            after={"status": result.status, "case": result.case.reference if result.case else None},
        )
    return result


def template_set_active(*, actor: Actor, template: ReplyTemplate, is_active: bool) -> ReplyTemplate:
    """Retires or reactivates a template (its versions stay; inactive ones are not offered)."""
    _require(actor, MANAGE_TEMPLATES)
    with transaction.atomic():
        template = ReplyTemplate.objects.select_for_update().get(pk=template.pk)
        before = template.is_active
        if before != is_active:
            template.is_active = is_active
            template.save(update_fields=["is_active"])
            audit_record(
                actor=actor or "system",
                action="template.set_active",
                obj=template,
                before={"is_active": before},
                after={"is_active": is_active},
            )
    return template
