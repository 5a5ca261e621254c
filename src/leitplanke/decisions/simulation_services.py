"""Writes of the what-if simulation: start a run (race-safe: one active run per table version
and period), and the run itself (the background task's body), which re-evaluates the stored
inputs of the period's decision records with the chosen version, in native batches, and stores
its progress and result on the `Simulation` row.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor, acting_user
from leitplanke.core.audit import audit_record
from leitplanke.core.background import enqueue_on_commit
from leitplanke.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from . import engine, whatif
from .analytics_selectors import may_simulate, simulation_records
from .models import DecisionTable, Simulation, SimulationStatus

logger = logging.getLogger(__name__)
CHUNK = 5_000
MAX_DAYS = 3 * 366
# A run still queued or running this long after it was requested was abandoned (a worker killed
# mid-run); a new start of the same version and period marks it failed instead of waiting forever.
ABANDONED_AFTER = dt.timedelta(hours=1)


def simulation_start(*, actor: Actor, table_id: int, start: dt.date, end: dt.date) -> Simulation:
    """Queues a simulation of a table version over the decisions of [start, end] (dates, both
    included). Refused while a run of the same version and period is queued or running."""
    if not may_simulate(actor):
        raise PermissionDenied()
    if end < start:
        raise ValidationFailed(
            _("The period ends before it starts."), field_errors={"end": [_("The period ends before it starts.")]}
        )
    if (end - start).days > MAX_DAYS:
        raise ValidationFailed(_("Choose a period of at most three years."))
    table = DecisionTable.objects.filter(pk=table_id).first()
    if table is None:
        raise NotFound()
    try:
        engine.load(table.jdm, table.tests)
    except engine.InvalidTable:
        raise ValidationFailed(_("This version has errors; correct it in the editor before simulating it.")) from None
    try:
        with transaction.atomic():
            Simulation.objects.filter(
                table=table,
                period_start=start,
                period_end=end,
                status__in=[SimulationStatus.QUEUED, SimulationStatus.RUNNING],
                requested_at__lt=timezone.now() - ABANDONED_AFTER,
            ).update(status=SimulationStatus.FAILED, finished_at=timezone.now(), error="abandoned")
            simulation = Simulation.objects.create(
                table=table,
                period_start=start,
                period_end=end,
                requested_by=acting_user(actor),
                requested_at=timezone.now(),
            )
            audit_record(
                actor=actor,
                action="decision_simulation.start",
                obj=simulation,
                after={"table": str(table), "from": start.isoformat(), "to": end.isoformat()},
            )
            from .simulation_tasks import run_simulation

            enqueue_on_commit(run_simulation, simulation_id=simulation.pk)
    except IntegrityError:
        raise Conflict(_("A simulation of this version over this period is already running. Wait for its result.")) from None
    return simulation


def simulation_run(*, simulation_id: int) -> Simulation | None:
    """The background task's body: claims the queued run (a conditional update, so two workers
    never run it twice), evaluates in chunks, stores progress after each and the result at the end."""
    claimed = Simulation.objects.filter(pk=simulation_id, status=SimulationStatus.QUEUED).update(
        status=SimulationStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    simulation = Simulation.objects.select_related("table").get(pk=simulation_id)
    try:
        result = _evaluate(simulation)
    except Exception as error:  # the run fails visibly; the worker logs the traceback
        logger.exception("simulation %s failed", simulation_id)
        Simulation.objects.filter(pk=simulation_id).update(
            status=SimulationStatus.FAILED, finished_at=timezone.now(), error=str(error)[:2000]
        )
        raise
    Simulation.objects.filter(pk=simulation_id).update(
        status=SimulationStatus.DONE, finished_at=timezone.now(), result=result, progress=result["evaluated"]
    )
    simulation.refresh_from_db()
    return simulation


def _evaluate(simulation: Simulation) -> dict[str, Any]:
    table = simulation.table
    compiled = engine.load(table.jdm, table.tests)
    records = simulation_records(table=table, start=simulation.period_start, end=simulation.period_end)
    total = records.count()
    Simulation.objects.filter(pk=simulation.pk).update(total=total)
    tally = whatif.Tally(default_kind=table.decision_kind)
    rows = records.order_by("pk").values_list(
        "pk", "case_id", "case__reference", "case__customer__segment", "currency", "inputs", "recommendation", "matched_rules"
    )
    chunk: list[whatif.Past] = []
    inputs: list[Any] = []
    for pk, case_id, reference, segment, currency, snapshot, recommendation, matched in rows.iterator(chunk_size=CHUNK):
        chunk.append(whatif.Past(pk, case_id, reference, segment or "", currency, recommendation, _rule_ids(matched)))
        inputs.append(snapshot)
        if len(chunk) >= CHUNK:
            _tally_chunk(compiled, tally, chunk, inputs)
            Simulation.objects.filter(pk=simulation.pk).update(progress=tally.evaluated)
            chunk, inputs = [], []
    if chunk:
        _tally_chunk(compiled, tally, chunk, inputs)
    result = tally.result()
    result["table"] = {"key": table.key, "version": table.version, "hit_policy": compiled.hit_policy}
    return result


def _rule_ids(matched: Any) -> list[str]:
    if not isinstance(matched, list):
        return []
    return [str(item.get("id", "")) if isinstance(item, dict) else str(item) for item in matched][:5]


def _tally_chunk(compiled: engine.Table, tally: whatif.Tally, chunk: list[whatif.Past], inputs: list[Any]) -> None:
    for past, answer in zip(chunk, engine.evaluate_many(compiled, inputs), strict=True):
        if isinstance(answer, engine.EvaluationError):
            tally.add(past, None, [], error=str(answer))
        else:
            tally.add(past, answer.outputs, answer.rule_ids)
