"""Decision steps: a process transition's `decide` effect (ADR "decision steps in processes").

`cases.services.case_transition` runs the effect through `decide_step` (registered in this
app's ready(): the cases app does not import decisions), inside its transaction and with the
case row locked. The published version of the named table is evaluated on the case as the
step leaves it; the result is recorded as a decision record of kind `step` (the outputs, the
matched rules and the inputs: the recorded reasons), and the outputs that name a case field a
process may set are applied: `team` (a team whose name, or name as a key, is the output),
`priority`, `severity`.

A step never decides an amount: on a goodwill or redress table it records the recommendation
(the amount and range in `recommendation`, `recommended_min`/`_max`) with kind "no payment"
and amount 0, and the agent still decides (a `decision` record, which is what
`case.has_decision` asks for). Any failure — no published version, inputs the table cannot
read — refuses the step, and the transaction rolls back with it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.actors import Actor, acting_user
from leitplanke.accounts.models import Team
from leitplanke.cases.models import Case, Interaction, InteractionKind, Priority, Severity
from leitplanke.cases.process import EffectStep
from leitplanke.core import events
from leitplanke.core.audit import audit_event
from leitplanke.core.errors import ValidationFailed
from leitplanke.core.inserts import insert_row, write_rows

from . import engine, table_selectors
from . import record_selectors as selectors
from .models import DecisionKind, DecisionRecord, DecisionTable, RecordKind, RecordStatus
from .record_services import record_event_payload, record_team

# The outputs a step applies to the case, when the table has them.
APPLIED_OUTPUTS = ("team", "priority", "severity")


class DecisionStepFailed(ValidationFailed):
    code = "decision_step_failed"
    default_message = _("The decision step of this transition could not be taken.")


def _refuse(text: str) -> DecisionStepFailed:
    return DecisionStepFailed(text, field_errors={"transition": [text]})


def _key(text: str) -> str:
    """A team name as a routing key: "Data Protection" → "data_protection"."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


def team_for(value: Any) -> Team | None:
    """The active team a routing output names: by its name, or its name as a key."""
    if not isinstance(value, str) or not value.strip():
        return None
    wanted = _key(value)
    for team in Team.objects.filter(is_active=True).order_by("pk"):
        if team.name == value or _key(team.name) == wanted:
            return team
    return None


def step_inputs(row: DecisionTable, case: Case, *, now: dt.datetime) -> dict[str, Any]:
    """What the table sees: the facts Leitplanke fills in for every decision
    (`record_selectors.case_facts`), plus the case's own values under the names a table's
    top-level inputs use (category, priority, severity, channel, language, case_type,
    is_vulnerable) and its custom fields named like an input (`disputed_amount`). Other
    inputs stay absent: a step has no one to ask."""
    facts = selectors.case_facts(case, now=now)
    customer = case.customer if case.customer_id else None
    own = {
        "category": case.category.key if case.category_id and case.category else "",
        "priority": case.priority,
        "severity": case.severity,
        "channel": case.channel,
        "language": case.language,
        "case_type": case.case_type.key,
        "is_vulnerable": bool(customer.is_vulnerable) if customer is not None else False,
    }
    wanted = {column.field.split(".", 1)[0] for column in selectors.compiled(row).inputs} - set(facts)
    inputs = {**facts, **{name: value for name, value in own.items() if name in wanted}}
    # A custom field of the case named like one of the table's inputs (an amount as its number).
    for name, value in (case.custom_fields or {}).items():
        if name in wanted and name not in inputs:
            if isinstance(value, dict):
                number = selectors._amount(value.get("amount"))
                value = selectors._json_number(number) if number is not None else None
            inputs[name] = value
    return inputs


def _changes(outputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case fields the outputs set, and the outputs that name none (kept with the record)."""
    changes: dict[str, Any] = {}
    unapplied: dict[str, Any] = {}
    if "team" in outputs and outputs["team"] not in (None, ""):
        team = team_for(outputs["team"])
        if team is None:
            unapplied["team"] = outputs["team"]
        else:
            changes["team"] = team
    if "priority" in outputs and outputs["priority"] not in (None, ""):
        try:
            priority = int(outputs["priority"])
        except (TypeError, ValueError):
            priority = None
        if priority in Priority.values and not isinstance(outputs["priority"], bool):
            changes["priority"] = priority
        else:
            unapplied["priority"] = outputs["priority"]
    if "severity" in outputs and outputs["severity"] not in (None, ""):
        if outputs["severity"] in Severity.values:
            changes["severity"] = outputs["severity"]
        else:
            unapplied["severity"] = outputs["severity"]
    return changes, unapplied


def decide_step(case: Case, params: dict[str, Any], *, actor: Actor, now: dt.datetime, transition: str) -> EffectStep:
    """Evaluates the step's table on the (locked) case and returns the field changes; the
    record, its timeline entry and audit event are written by `finish` once the case is saved.
    Refused (the step rolls back): no person acting (a record names its decider), no published
    version of the table, an evaluation error."""
    user = acting_user(actor)
    key = str(params.get("table") or "")
    if user is None:
        raise _refuse(gettext("The decision step of this transition needs a person to take it."))
    row = table_selectors.published(key)
    if row is None:
        raise _refuse(gettext("The decision table %(table)s of this step has no published version.") % {"table": key})
    inputs = step_inputs(row, case, now=now)
    try:
        result = engine.evaluate(selectors.compiled(row), inputs)
    except engine.EvaluationError as error:
        raise _refuse(
            gettext("The decision table %(table)s could not be evaluated: %(error)s")
            % {"table": key, "error": str(error).split("\n", 1)[0][:300]}
        ) from None
    if isinstance(result.outputs, dict):
        outputs = selectors._plain_outputs(dict(result.outputs))
    else:  # a collect table: one row of outputs per matched rule
        outputs = {"results": [selectors._plain_outputs(dict(item)) for item in result.outputs or []]}
    matched = [
        {"position": m.index, "id": m.rule_id, "description": m.description, "description_de": m.description_de}
        for m in result.matches
    ]
    changes, unapplied = _changes(outputs)
    # A goodwill or redress table's recommendation is recorded, not decided (the agent decides).
    minimum = maximum = amount = None
    if "recommended_amount" in outputs:
        amount = selectors._money(outputs.get("recommended_amount"))
        minimum = selectors._money(outputs.get("min_amount"))
        maximum = selectors._money(outputs.get("max_amount"))

    def finish(saved: Case) -> dict[str, Any]:
        applied = {name: (value.pk if isinstance(value, Team) else value) for name, value in changes.items()}
        record = insert_row(
            DecisionRecord(
                case=saved,
                record_kind=RecordKind.STEP,
                table=row,
                inputs=inputs,
                recommendation={
                    **outputs,
                    "amount": str(amount) if amount is not None else None,
                    "kind": row.decision_kind,
                },
                matched_rules=matched,
                recommended_min=minimum,
                recommended_max=maximum,
                kind=DecisionKind.NONE,
                amount=0,
                currency=(saved.currency or "EUR").upper(),
                action=str(outputs.get("action") or "")[:100],
                # No authority applies (nothing is given); what the step did is kept here, so
                # that `recommendation` has the shape of every record's (the simulation compares it).
                authority={
                    "kind": DecisionKind.NONE,
                    "covered": True,
                    "no_payment": True,
                    "approval_reasons": [],
                    "step": {"transition": transition, "applied": applied, "not_applied": unapplied},
                },
                status=RecordStatus.FINAL,
                decided_by=user,
                decided_at=now,
                team_id=record_team(user, saved),
            )
        )
        rationale = {"de": str(outputs.get("rationale_de") or ""), "en": str(outputs.get("rationale_en") or "")}
        entry = Interaction(
            case=saved,
            kind=InteractionKind.SYSTEM,
            occurred_at=now,
            author=user,
            is_internal=True,
            subject=f"Decision step: {row.name_en}"[:255],
            data={
                "event": "decision_step",
                "decision_id": record.pk,
                "table": row.key,
                "table_version": row.version,
                "table_name_de": row.name_de,
                "table_name_en": row.name_en,
                "transition": transition,
                "rules": [rule.get("description_de") or rule.get("description") or rule.get("id") for rule in matched],
                "rules_en": [rule.get("description") or rule.get("id") for rule in matched],
                "rationale_de": rationale["de"][:500],
                "rationale_en": rationale["en"][:500],
                "applied": {name: str(value) for name, value in changes.items()},
                "not_applied": {name: str(value) for name, value in unapplied.items()},
                "recommended_amount": str(amount) if amount is not None else "",
                "currency": record.currency,
            },
        )
        shape = {
            "record_kind": record.record_kind,
            "table": str(row),
            "transition": transition,
            "matched_rules": [rule.get("id") for rule in matched],
            "outputs": outputs,
            "applied": applied,
            "not_applied": unapplied,
            "status": record.status,
        }
        write_rows([entry, audit_event(actor=user, action="decision.step", obj=record, after=shape)])
        events.emit("decision.recorded", record_event_payload(saved, record))
        return {"decision_id": record.pk, "table": str(row), "matched_rules": shape["matched_rules"], "applied": applied}

    return EffectStep(changes=changes, finish=finish)
