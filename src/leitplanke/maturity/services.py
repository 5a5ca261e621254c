"""Every write of the maturity check: answers, completion, contact consent, campaigns, the
recommendation library and roadmaps. One transaction each.

Staff changes (campaigns, library, roadmaps, in-app checks) are audited. Anonymous answer
sets (the public check and campaign responses) are not: an audit event carries the client's
IP address, and the public check promises to store no personal data unless the person
leaves contact details (docs/maturity-model.md, "Privacy").
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leitplanke.accounts.actors import Actor
from leitplanke.core.audit import audit_record, audit_update, snapshot
from leitplanke.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    refuse_unknown_fields,
    refuse_unstorable_text,
)

from . import links, permissions, selectors
from .engine import advice, scoring
from .engine.model import DIMENSION_KEYS, LEVELS
from .models import Assessment, Campaign, Group, Horizon, Kpi, Recommendation, Roadmap, RoadmapItem

if TYPE_CHECKING:
    from leitplanke.accounts.models import User

TITLE_MAX = 200
TEXT_MAX = 1000
MIN_GROUP_SIZE_RANGE = (2, 50)
CAMPAIGN_FIELDS = ["name", "description", "status", "closes_at", "min_group_size", "closed_at"]
RECOMMENDATION_FIELDS = [
    "key",
    "dimension",
    "levels",
    "tension",
    "horizon",
    "title_de",
    "title_en",
    "text_de",
    "text_en",
    "owner_de",
    "owner_en",
    "indicator_de",
    "indicator_en",
    "kpi",
    "priority",
    "is_active",
]
ITEM_FIELDS = ["quarter", "horizon", "dimension", "title", "goal", "owner", "indicator", "kpi", "status", "position"]


class AlreadyCompleted(Conflict):
    code = "already_completed"
    default_message = gettext_lazy("This check is already completed; its answers can no longer change.")


class Incomplete(ValidationFailed):
    code = "incomplete"
    default_message = gettext_lazy("Some questions are not answered yet.")


# --- input checks -------------------------------------------------------------------------


def _text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    text = "" if value is None else str(value).replace("\r\n", "\n").strip()
    if required and not text:
        raise ValidationFailed(field_errors={field: [_("This field is required.")]})
    if len(text) > max_length:
        raise ValidationFailed(field_errors={field: [_("At most %(n)s characters.") % {"n": max_length}]})
    refuse_unstorable_text({field: text})
    return text


def _choice(value: Any, field: str, choices: Any, *, required: bool = True) -> str:
    value = "" if value is None else str(value)
    if (value or required) and value not in choices:
        raise ValidationFailed(field_errors={field: [_("Choose one of the offered values.")]})
    return value


def _int_in(value: Any, field: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(field_errors={field: [_("Enter a whole number.")]}) from None
    if not low <= number <= high:
        raise ValidationFailed(field_errors={field: [_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}]})
    return number


def _require_manage(actor: Actor) -> User:
    """The acting user, who must hold maturity.manage."""
    if not permissions.may_manage(actor):
        raise PermissionDenied()
    return actor


def _save_changes(
    *, actor: Actor, obj: Any, before: dict[str, Any], values: Mapping[str, Any], action: str, fields: list[str]
) -> Any:
    """Sets the checked values, saves, and audits the fields that changed."""
    for field, value in values.items():
        setattr(obj, field, value)
    obj.save()
    audit_update(actor=actor, action=action, obj=obj, before=before, fields=fields)
    return obj


def _lock(model: Any, pk: int) -> Any:
    try:
        return model.objects.select_for_update().get(pk=pk)
    except model.DoesNotExist:
        raise NotFound() from None


# --- answer sets --------------------------------------------------------------------------


@transaction.atomic
def assessment_start(
    *, actor: Actor = None, language: str = "de", campaign: Campaign | None = None, group: str = ""
) -> tuple[Assessment, str]:
    """Starts an answer set and returns it with the secret of its resume link (shown once,
    stored as a hash). With an actor it is that user's in-app check; with a campaign it is an
    anonymous response of one group."""
    if campaign is not None:
        campaign = _lock(Campaign, campaign.pk)
        links.require_open(campaign)
        _choice(group, "group", Group.values)
    owner = actor if actor is not None and permissions.may_take_in_app(actor) else None
    token = secrets.token_urlsafe(24)
    assessment = Assessment.objects.create(
        token_hash=links.token_hash(token),
        language="en" if str(language).startswith("en") else "de",
        campaign=campaign,
        group=group if campaign is not None else "",
        owner=owner,
    )
    if owner is not None:
        audit_record(actor=owner, action="maturity.check_start", obj=assessment)
    return assessment, token


def _answer_errors(error: scoring.InvalidAnswers) -> dict[str, list[str]]:
    messages = {"unknown_question": _("This question does not exist."), "invalid_level": _("Choose one of the offered answers.")}
    return {key: [str(messages[reason])] for key, reason in error.errors.items()}


@transaction.atomic
def assessment_answer(*, assessment: Assessment, answers: Mapping[str, Any]) -> Assessment:
    """Stores answers (some or all questions); earlier answers to other questions stay.
    The row is locked, so two pages sent at the same moment both keep their answers."""
    assessment = _lock(Assessment, assessment.pk)
    if assessment.is_complete:
        raise AlreadyCompleted()
    if assessment.campaign is not None:
        links.require_open(assessment.campaign)
    try:
        valid = scoring.validate_answers(answers)
    except scoring.InvalidAnswers as error:
        raise ValidationFailed(field_errors=_answer_errors(error)) from None
    assessment.answers = {**assessment.answers, **valid}
    assessment.save(update_fields=["answers", "updated_at"])
    return assessment


@transaction.atomic
def assessment_complete(*, assessment: Assessment) -> Assessment:
    """Completes a full answer set once: a second call (a double click, two tabs) finds it
    completed under the row lock and changes nothing, so nothing is counted twice."""
    assessment = _lock(Assessment, assessment.pk)
    if assessment.is_complete:
        return assessment
    if assessment.campaign is not None:
        links.require_open(assessment.campaign)
    missing = scoring.missing_questions(assessment.answers)
    if missing:
        raise Incomplete(missing=list(missing))
    result = scoring.score(assessment.answers)
    assessment.completed_at = timezone.now()
    assessment.level = result.level
    assessment.save(update_fields=["completed_at", "level", "updated_at"])
    if assessment.owner_id is not None:
        audit_record(
            actor=assessment.owner,
            action="maturity.check_complete",
            obj=assessment,
            after={"level": result.level, "answers": assessment.answers},
        )
    return assessment


@transaction.atomic
def assessment_contact(*, assessment: Assessment, name: str, email: str, organisation: str = "", consent: bool) -> Assessment:
    """Keeps contact details with the answers – only with explicit consent, and never for a
    campaign response (that would end its anonymity)."""
    assessment = _lock(Assessment, assessment.pk)
    if assessment.campaign_id is not None:
        raise PermissionDenied(_("Campaign answers stay anonymous; contact details cannot be added."))
    if consent is not True:
        raise ValidationFailed(field_errors={"consent": [_("Please confirm that we may store your details to contact you.")]})
    name = _text(name, "name", max_length=TITLE_MAX)
    email = _text(email, "email", max_length=254)
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(field_errors={"email": [_("Enter a valid e-mail address.")]}) from None
    assessment.contact_name = name
    assessment.contact_email = email
    assessment.contact_organisation = _text(organisation, "organisation", max_length=TITLE_MAX, required=False)
    assessment.contact_consent_at = timezone.now()
    assessment.save(update_fields=["contact_name", "contact_email", "contact_organisation", "contact_consent_at", "updated_at"])
    return assessment


@transaction.atomic
def assessment_contact_erase(*, actor: Actor, assessment_id: Any) -> Assessment:
    """Erases the contact details a respondent left (maturity.manage). The answers stay
    anonymous and fall under the usual pruning; the audit event names no personal data."""
    _require_manage(actor)
    try:
        assessment = _lock(Assessment, int(assessment_id))
    except (TypeError, ValueError):
        raise NotFound() from None
    if assessment.contact_consent_at is None:
        raise NotFound()
    assessment.contact_name = assessment.contact_email = assessment.contact_organisation = ""
    assessment.contact_consent_at = None
    assessment.save(update_fields=["contact_name", "contact_email", "contact_organisation", "contact_consent_at", "updated_at"])
    audit_record(actor=actor, action="maturity.contact_erase", obj=assessment, after={"contact": "erased"})
    return assessment


def assessments_prune(*, now: dt.datetime | None = None) -> int:
    """Deletes anonymous public answer sets whose link has expired and that carry no contact
    consent (campaign responses and in-app checks stay)."""
    cutoff = (now or timezone.now()) - links.PUBLIC_LINK_VALID
    deleted, _ = Assessment.objects.filter(
        campaign__isnull=True, owner__isnull=True, contact_consent_at__isnull=True, updated_at__lt=cutoff
    ).delete()
    return deleted


# --- campaigns ----------------------------------------------------------------------------


def _campaign_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _text(changes["name"], "name", max_length=TITLE_MAX)
    if "description" in changes:
        values["description"] = _text(changes["description"], "description", max_length=TEXT_MAX, required=False)
    if "closes_at" in changes:
        closes_at = changes["closes_at"]
        if closes_at is not None and not isinstance(closes_at, dt.datetime):
            raise ValidationFailed(field_errors={"closes_at": [_("Enter a valid date and time.")]})
        values["closes_at"] = closes_at
    if "min_group_size" in changes:
        values["min_group_size"] = _int_in(changes["min_group_size"], "min_group_size", *MIN_GROUP_SIZE_RANGE)
    return values


@transaction.atomic
def campaign_create(
    *, actor: Actor, name: str, description: str = "", closes_at: Any = None, min_group_size: Any = 3
) -> Campaign:
    manager = _require_manage(actor)
    values = _campaign_values(
        {"name": name, "description": description, "closes_at": closes_at, "min_group_size": min_group_size}
    )
    campaign = Campaign.objects.create(**values, link_nonce=secrets.token_hex(8), created_by=manager)
    audit_record(actor=actor, action="maturity.campaign_create", obj=campaign, after=snapshot(campaign, CAMPAIGN_FIELDS))
    return campaign


@transaction.atomic
def campaign_update(*, actor: Actor, campaign: Campaign, **changes: Any) -> Campaign:
    _require_manage(actor)
    refuse_unknown_fields(changes, ["name", "description", "closes_at", "min_group_size"])
    campaign = _lock(Campaign, campaign.pk)
    before = snapshot(campaign, CAMPAIGN_FIELDS)
    values = _campaign_values(changes)
    return _save_changes(
        actor=actor, obj=campaign, before=before, values=values, action="maturity.campaign_update", fields=CAMPAIGN_FIELDS
    )


@transaction.atomic
def campaign_close(*, actor: Actor, campaign: Campaign) -> Campaign:
    """Closes a campaign: its invitation links stop working, the results stay."""
    _require_manage(actor)
    campaign = _lock(Campaign, campaign.pk)
    if campaign.status == Campaign.Status.CLOSED:
        return campaign
    before = snapshot(campaign, CAMPAIGN_FIELDS)
    campaign.status = Campaign.Status.CLOSED
    campaign.closed_at = timezone.now()
    campaign.save()
    audit_update(actor=actor, action="maturity.campaign_close", obj=campaign, before=before, fields=CAMPAIGN_FIELDS)
    return campaign


@transaction.atomic
def campaign_renew_links(*, actor: Actor, campaign: Campaign) -> Campaign:
    """New invitation links for every group; the old ones stop working at once."""
    _require_manage(actor)
    campaign = _lock(Campaign, campaign.pk)
    campaign.link_nonce = secrets.token_hex(8)
    campaign.save(update_fields=["link_nonce", "updated_at"])
    audit_record(actor=actor, action="maturity.campaign_renew_links", obj=campaign)
    return campaign


# --- recommendation library ---------------------------------------------------------------


def _levels(value: Any) -> list[int]:
    try:
        levels = sorted({int(level) for level in (value or [])})
    except (TypeError, ValueError):
        levels = [0]
    if any(level not in LEVELS for level in levels):
        raise ValidationFailed(field_errors={"levels": [_("Choose one of the offered values.")]})
    return levels


def _recommendation_values(data: Mapping[str, Any]) -> dict[str, Any]:
    from .models import TENSION_CHOICES

    values: dict[str, Any] = {
        "key": _text(data.get("key"), "key", max_length=80),
        "dimension": _choice(data.get("dimension"), "dimension", DIMENSION_KEYS, required=False),
        "tension": _choice(data.get("tension"), "tension", [key for key, _label in TENSION_CHOICES], required=False),
        "levels": _levels(data.get("levels")),
        "horizon": _choice(data.get("horizon"), "horizon", Horizon.values),
        "kpi": _choice(data.get("kpi"), "kpi", Kpi.values, required=False),
        "priority": _int_in(data.get("priority", 100), "priority", 0, 1000),
        "is_active": bool(data.get("is_active", True)),
    }
    for field in ("title_de", "title_en", "owner_de", "owner_en"):
        values[field] = _text(data.get(field), field, max_length=TITLE_MAX)
    for field in ("indicator_de", "indicator_en"):
        values[field] = _text(data.get(field), field, max_length=300)
    for field in ("text_de", "text_en"):
        values[field] = _text(data.get(field), field, max_length=TEXT_MAX)
    if not links.SLUG_RE.match(values["key"]):
        raise ValidationFailed(field_errors={"key": [_("Use letters, digits, dots, hyphens and underscores only.")]})
    if bool(values["dimension"]) == bool(values["tension"]):
        raise ValidationFailed(field_errors={"dimension": [_("Choose either a dimension or a tension.")]})
    if values["dimension"] and not values["levels"]:
        raise ValidationFailed(field_errors={"levels": [_("Choose at least one level.")]})
    if values["tension"]:
        values["levels"] = []
    return values


@transaction.atomic
def recommendation_create(*, actor: Actor, **data: Any) -> Recommendation:
    _require_manage(actor)
    refuse_unknown_fields(data, RECOMMENDATION_FIELDS)
    values = _recommendation_values(data)
    if Recommendation.objects.filter(key=values["key"]).exists():
        raise ValidationFailed(field_errors={"key": [_("This key is already used.")]})
    recommendation = Recommendation.objects.create(**values)
    audit_record(
        actor=actor,
        action="maturity.recommendation_create",
        obj=recommendation,
        after=snapshot(recommendation, RECOMMENDATION_FIELDS),
    )
    return recommendation


@transaction.atomic
def recommendation_update(*, actor: Actor, recommendation: Recommendation, **data: Any) -> Recommendation:
    _require_manage(actor)
    refuse_unknown_fields(data, RECOMMENDATION_FIELDS)
    recommendation = _lock(Recommendation, recommendation.pk)
    before = snapshot(recommendation, RECOMMENDATION_FIELDS)
    values = _recommendation_values({**before, **data})
    if Recommendation.objects.filter(key=values["key"]).exclude(pk=recommendation.pk).exists():
        raise ValidationFailed(field_errors={"key": [_("This key is already used.")]})
    return _save_changes(
        actor=actor,
        obj=recommendation,
        before=before,
        values=values,
        action="maturity.recommendation_update",
        fields=RECOMMENDATION_FIELDS,
    )


# --- roadmaps -----------------------------------------------------------------------------


@transaction.atomic
def roadmap_create(
    *, actor: Actor, title: str, assessment: Assessment | None = None, campaign: Campaign | None = None, language: str = "de"
) -> Roadmap:
    """A roadmap drafted from a result: quick wins in the first quarter, structural projects
    in the quarters after, each with owner, goal and indicator (in the given language), plus a
    baseline of the dimension scores and live figures for "since then"."""
    manager = _require_manage(actor)
    title = _text(title, "title", max_length=TITLE_MAX)
    if (assessment is None) == (campaign is None):
        raise ValidationFailed(_("A roadmap is made from one check or one campaign."))
    result: scoring.Result | None
    if assessment is not None:
        result = selectors.assessment_result(actor=actor, assessment=assessment)
    else:
        assert campaign is not None
        result = selectors.campaign_results(actor=actor, campaign=campaign).overall
    if result is None:
        raise ValidationFailed(_("There is no result to plan from yet."))
    draft = advice.draft_roadmap(advice.recommend(result, selectors.recommendation_rules()))
    roadmap = Roadmap.objects.create(
        title=title,
        assessment=assessment,
        campaign=campaign,
        starts_on=timezone.localdate(),
        baseline={
            "scores": {key: str(round(score, 2)) for key, score in result.scores().items()},
            "kpis": selectors.kpi_values(actor=actor),
        },
        created_by=manager,
    )
    RoadmapItem.objects.bulk_create(
        RoadmapItem(
            roadmap=roadmap,
            quarter=item.quarter,
            horizon=item.horizon,
            dimension=item.dimension,
            title=item.title.get(language)[:TITLE_MAX],
            goal=item.goal.get(language),
            owner=item.owner.get(language),
            indicator=item.indicator.get(language),
            kpi=item.kpi,
            position=index,
            source_rule=item.rule_key,
        )
        for index, item in enumerate(draft)
    )
    audit_record(
        actor=actor,
        action="maturity.roadmap_create",
        obj=roadmap,
        after={
            "title": title,
            "assessment": assessment and assessment.pk,
            "campaign": campaign and campaign.pk,
            "items": len(draft),
        },
    )
    return roadmap


@transaction.atomic
def roadmap_update(*, actor: Actor, roadmap: Roadmap, title: str) -> Roadmap:
    _require_manage(actor)
    roadmap = _lock(Roadmap, roadmap.pk)
    before = snapshot(roadmap, ["title"])
    values = {"title": _text(title, "title", max_length=TITLE_MAX)}
    return _save_changes(
        actor=actor, obj=roadmap, before=before, values=values, action="maturity.roadmap_update", fields=["title"]
    )


def _item_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "quarter": _int_in(data.get("quarter"), "quarter", 1, 4),
        "horizon": _choice(data.get("horizon"), "horizon", Horizon.values),
        "dimension": _choice(data.get("dimension"), "dimension", DIMENSION_KEYS, required=False),
        "title": _text(data.get("title"), "title", max_length=TITLE_MAX),
        "goal": _text(data.get("goal"), "goal", max_length=TEXT_MAX),
        "owner": _text(data.get("owner"), "owner", max_length=TITLE_MAX),
        "indicator": _text(data.get("indicator"), "indicator", max_length=300),
        "kpi": _choice(data.get("kpi"), "kpi", Kpi.values, required=False),
        "status": _choice(data.get("status") or RoadmapItem.Status.PLANNED, "status", RoadmapItem.Status.values),
        "position": _int_in(data.get("position", 0), "position", 0, 10_000),
    }


@transaction.atomic
def roadmap_item_create(*, actor: Actor, roadmap: Roadmap, **data: Any) -> RoadmapItem:
    _require_manage(actor)
    refuse_unknown_fields(data, ITEM_FIELDS)
    roadmap = _lock(Roadmap, roadmap.pk)
    item = RoadmapItem.objects.create(roadmap=roadmap, **_item_values(data))
    audit_record(actor=actor, action="maturity.roadmap_item_create", obj=item, after=snapshot(item, ["roadmap", *ITEM_FIELDS]))
    return item


@transaction.atomic
def roadmap_item_update(*, actor: Actor, item: RoadmapItem, **data: Any) -> RoadmapItem:
    _require_manage(actor)
    refuse_unknown_fields(data, ITEM_FIELDS)
    item = _lock(RoadmapItem, item.pk)
    before = snapshot(item, ITEM_FIELDS)
    values = _item_values({**before, **data})
    return _save_changes(
        actor=actor, obj=item, before=before, values=values, action="maturity.roadmap_item_update", fields=ITEM_FIELDS
    )


@transaction.atomic
def roadmap_item_delete(*, actor: Actor, item: RoadmapItem) -> None:
    _require_manage(actor)
    item = _lock(RoadmapItem, item.pk)
    before = snapshot(item, ["roadmap", *ITEM_FIELDS])
    audit_record(actor=actor, action="maturity.roadmap_item_delete", obj=item, before=before)
    item.delete()
