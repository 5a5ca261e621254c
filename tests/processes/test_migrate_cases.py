"""`leitplanke processes migrate-cases`: open cases move to a newer version by a mapping."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from leitplanke.cases import process as case_process
from leitplanke.cases import services as case_services
from leitplanke.cases.models import Case
from leitplanke.cli import build_parser
from leitplanke.core.audit import AuditEvent
from leitplanke.processes import services

from .test_services import CLOSING, draft_of


def rename_assessment(data: dict) -> None:
    for state in data["states"]:
        if state["key"] == "assessment":
            state["key"], state["label_en"], state["label_de"] = "triage", "Triage", "Triage"
    for step in data["transitions"]:
        step["from"] = ["triage" if s == "assessment" else s for s in step["from"]]
        if step["to"] == "assessment":
            step["to"] = "triage"


def run(*argv: str) -> str:
    out = io.StringIO()
    call_command("leitplanke_processes", *argv, stdout=out)
    return out.getvalue()


@pytest.fixture
def cases(owner: Any, agent: Any, make_case: Any, team_a: Any) -> dict[str, Case]:
    assessed = case_services.case_transition(actor=agent, case=make_case(actor=agent, team=team_a), transition="assess")
    fresh = make_case(actor=agent, team=team_a)
    done = make_case(actor=agent, team=team_a)
    done = case_services.case_transition(actor=agent, case=done, transition="resolve")
    done = case_services.case_transition(actor=agent, case=done, transition="close", fields=CLOSING)
    services.definition_publish(actor=owner, definition=draft_of(owner, rename_assessment))
    return {"assessed": assessed, "fresh": fresh, "done": done}


def test_unmapped_states_are_refused_and_nothing_moves(cases: dict[str, Case]) -> None:
    with pytest.raises(CommandError, match="assessment"):
        run("migrate-cases", "--from", "complaint:1", "--to", "complaint:2")
    with pytest.raises(CommandError, match="nowhere"):
        run("migrate-cases", "--from", "complaint:1", "--to", "complaint:2", "--map", "assessment=nowhere")
    with pytest.raises(CommandError):
        run("migrate-cases", "--from", "complaint:2", "--to", "complaint:1", "--map", "assessment=new")
    assert set(Case.objects.values_list("process_version__version", flat=True)) == {1}


def test_dry_run_counts_and_the_run_moves_open_cases_audited(cases: dict[str, Case]) -> None:
    argv = ("migrate-cases", "--from", "complaint:1", "--to", "complaint:2", "--map", "assessment=triage")
    dry = run(*argv, "--dry-run")
    assert "assessment -> triage: 1" in dry and "new -> new: 1" in dry and "would move 2 open case(s)" in dry
    assert set(Case.objects.values_list("process_version__version", flat=True)) == {1}
    done = run(*argv)
    assert "moved 2 open case(s)" in done
    moved = {key: Case.objects.get(pk=case.pk) for key, case in cases.items()}
    assert (moved["assessed"].status, moved["assessed"].process_version.version) == ("triage", 2)
    assert (moved["fresh"].status, moved["fresh"].process_version.version) == ("new", 2)
    assert moved["assessed"].version == cases["assessed"].version + 1
    assert moved["done"].process_version.version == 1  # closed cases keep the version they finished on
    audited = AuditEvent.objects.filter(action="case.process_migrate").order_by("id")
    assert [e.after["status"] for e in audited] == ["triage", "new"]
    assert audited[0].before["status"] == "assessment" and audited[0].after["process"] == "complaint:2"
    # The moved case runs on the new version: its steps are the new version's.
    offered = [o.transition.key for o in case_process.offered(actor=None, case=moved["assessed"])]
    assert offered == ["start", "wait", "resolve", "escalate"]


def test_cli_passes_the_arguments_on() -> None:
    args = build_parser().parse_args(
        ["processes", "migrate-cases", "--from", "complaint:1", "--to", "complaint:2", "--map", "a=b", "--dry-run"]
    )
    assert (args.source, args.target, args.mapping, args.dry_run) == ("complaint:1", "complaint:2", ["a=b"], True)


@pytest.mark.django_db(transaction=True)
def test_a_step_taken_while_cases_move_is_neither_lost_nor_half_applied(
    owner: Any, agent: Any, make_case: Any, team_a: Any, tmp_path: Any
) -> None:
    from leitplanke.processes.models import ProcessDefinition
    from tests.concurrency import in_parallel, shared_database

    case = make_case(actor=agent, team=team_a)
    services.definition_publish(actor=owner, definition=draft_of(owner, rename_assessment))
    v1 = ProcessDefinition.objects.get(key="complaint", version=1)
    v2 = ProcessDefinition.objects.get(key="complaint", version=2)
    with shared_database(tmp_path):

        def work(index: int) -> str:
            if index == 0:
                case_services.case_process_migrate(
                    actor=None, from_definition=v1, to_definition=v2, mapping={"assessment": "triage"}
                )
                return "moved"
            fresh = Case.objects.get(pk=case.pk)
            return case_services.case_transition(actor=agent, case=fresh, transition="assess").status

        results = in_parallel(work, 2)
        final = Case.objects.get(pk=case.pk)
        events = list(AuditEvent.objects.filter(object_id=str(case.pk), action__in=["case.transition", "case.process_migrate"]))
    # Either order is fine; what may not happen is a case on version 2 in a state version 2
    # does not have, or a lost step or move.
    assert results[0] == "moved"
    assert final.process_version_id == v2.pk
    assert final.status in ("triage",) and results[1] in ("assessment", "triage")
    assert {e.action for e in events} == {"case.transition", "case.process_migrate"}
    assert final.version == case.version + 2
