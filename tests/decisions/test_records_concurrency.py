"""Races on decision records (SQLite with the production settings, and PostgreSQL): two
decisions on one case at once, two reversals of one record, a reversal racing an approval, two
corrections of one record, a correction racing a reversal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from leitplanke.cases.models import Case
from leitplanke.core.errors import DomainError
from leitplanke.decisions import approval_services, record_services
from leitplanke.decisions.models import ApprovalRequest, DecisionRecord
from tests.concurrency import in_parallel, shared_database

pytestmark = pytest.mark.django_db(transaction=True)


def _decide(actor: Any, case_id: int, amount: str, disputed: int = 300) -> DecisionRecord:
    from django.db import connection

    try:
        return record_services.decision_record(
            actor=actor, case=Case.objects.get(pk=case_id), table_key="goodwill_energy_billing",
            context={"disputed_amount": disputed}, kind="goodwill", amount=amount, currency="EUR",
        )  # fmt: skip
    finally:
        connection.close()


def test_two_decisions_on_one_case_at_once(tables: Any, complaint: Any, agent: Any, tmp_path: Any) -> None:
    with shared_database(tmp_path):
        records = in_parallel(lambda index: _decide(agent, complaint.pk, ["45.00", "50.00"][index]), 2)
        assert {r.status for r in records} == {"final"}
        case = Case.objects.get(pk=complaint.pk)
        assert case.goodwill_amount == Decimal("95.00")  # neither refresh lost the other's amount
        assert case.version == complaint.version + 2


def test_two_reversals_one_wins(tables: Any, complaint: Any, agent: Any, lead: Any, make_user: Any, tmp_path: Any) -> None:
    quality = make_user("quality_manager")
    record = _decide(agent, complaint.pk, "45.00")

    def reverse(index: int) -> str:
        from django.db import connection

        try:
            actor = [lead, quality][index]
            record_services.decision_reverse(
                actor=actor, record=DecisionRecord.objects.get(pk=record.pk), justification=f"Grund {index}"
            )
            return "reversed"
        except DomainError as error:
            return error.code
        finally:
            connection.close()

    with shared_database(tmp_path):
        outcomes = in_parallel(reverse, 2)
        assert sorted(outcomes) == ["decision_not_reversible", "reversed"]
        assert DecisionRecord.objects.filter(refers_to_id=record.pk, record_kind="reversal").count() == 1


def test_a_reversal_racing_an_approval(tables: Any, complaint: Any, agent: Any, lead: Any, make_user: Any, tmp_path: Any) -> None:
    quality = make_user("quality_manager")
    record = _decide(agent, complaint.pk, "150.00", disputed=1000)
    assert record.status == "pending"

    def act(index: int) -> str:
        from django.db import connection

        try:
            if index == 0:
                approval_services.approval_decide(
                    actor=lead, approval=ApprovalRequest.objects.get(record_id=record.pk), action="approve"
                )
                return "approved"
            record_services.decision_reverse(
                actor=quality, record=DecisionRecord.objects.get(pk=record.pk), justification="Zu großzügig."
            )
            return "reversed"
        except DomainError as error:
            return error.code
        finally:
            connection.close()

    with shared_database(tmp_path):
        outcomes = in_parallel(act, 2)
        assert outcomes[0] == "approved"
        fresh = DecisionRecord.objects.get(pk=record.pk)
        case = Case.objects.get(pk=complaint.pk)
        if outcomes[1] == "reversed":  # the approval committed first
            assert fresh.status == "reversed" and case.goodwill_amount is None
        else:  # the reversal saw a pending record: refused, nothing written
            assert outcomes[1] == "decision_not_reversible"
            assert fresh.status == "approved" and case.goodwill_amount == Decimal("150.00")
            assert not DecisionRecord.objects.filter(record_kind="reversal").exists()


def _correct(actor: Any, record_id: int, amount: str) -> str:
    from django.db import connection

    try:
        record_services.decision_correct(
            actor=actor, record=DecisionRecord.objects.get(pk=record_id), kind="goodwill", amount=amount,
            currency="EUR", justification=f"Korrektur auf {amount}",
        )  # fmt: skip
        return "corrected"
    except DomainError as error:
        return error.code
    finally:
        connection.close()


def test_two_corrections_of_one_record_one_wins(tables: Any, complaint: Any, agent: Any, lead: Any, tmp_path: Any) -> None:
    record = _decide(agent, complaint.pk, "45.00")

    with shared_database(tmp_path):
        outcomes = in_parallel(lambda index: _correct([agent, lead][index], record.pk, ["50.00", "60.00"][index]), 2)
        assert sorted(outcomes) == ["corrected", "decision_not_current"]
        corrections = list(DecisionRecord.objects.filter(refers_to_id=record.pk, record_kind="correction"))
        assert len(corrections) == 1
        assert DecisionRecord.objects.get(pk=record.pk).status == "superseded"
        case = Case.objects.get(pk=complaint.pk)
        assert case.goodwill_amount == corrections[0].amount  # only the winner counts


def test_a_correction_racing_a_reversal(tables: Any, complaint: Any, agent: Any, lead: Any, tmp_path: Any) -> None:
    record = _decide(agent, complaint.pk, "45.00")

    def act(index: int) -> str:
        from django.db import connection

        if index == 0:
            return _correct(agent, record.pk, "55.00")
        try:
            record_services.decision_reverse(
                actor=lead, record=DecisionRecord.objects.get(pk=record.pk), justification="Rechnung war korrekt."
            )
            return "reversed"
        except DomainError as error:
            return error.code
        finally:
            connection.close()

    with shared_database(tmp_path):
        outcomes = in_parallel(act, 2)
        fresh = DecisionRecord.objects.get(pk=record.pk)
        case = Case.objects.get(pk=complaint.pk)
        followers = DecisionRecord.objects.filter(refers_to_id=record.pk)
        assert followers.count() == 1  # never both
        if outcomes == ["corrected", "decision_not_reversible"]:
            assert fresh.status == "superseded" and case.goodwill_amount == Decimal("55.00")
        else:
            assert outcomes == ["decision_not_current", "reversed"]
            assert fresh.status == "reversed" and case.goodwill_amount is None
