"""Visibility is checked on the locked row (issue 19, item 12): an agent acting on a case
object loaded before the case was moved to another team must be refused once the move is
committed — update, transition, note and attachment, while the move holds the row lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from leitplanke.accounts.models import Team, User
from leitplanke.cases import services
from leitplanke.cases.models import Case, Interaction
from leitplanke.core.errors import NotFound
from tests.concurrency import in_parallel, shared_database

ACTIONS: dict[str, Callable[[Any, Case], Any]] = {
    "update": lambda agent, case: services.case_update(actor=agent, case=case, subject="Vom Agenten geändert"),
    "transition": lambda agent, case: services.case_transition(actor=agent, case=case, transition="start"),
    "note": lambda agent, case: services.interaction_add(
        actor=agent, case=case, kind="internal_note", body_text="Notiz nach dem Wechsel"
    ),
    "attachment": lambda agent, case: services.attachment_add(
        actor=agent, case=case, uploaded_file=("notiz.txt", b"Anhang nach dem Wechsel")
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_case_moved_away_meanwhile_is_refused(
    action: str,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    team_a: Team,
    team_b: Team,
    tmp_path: Any,
) -> None:
    agent = make_user("agent", teams=[team_a])
    admin = make_user("administrator")
    case = make_case(team=team_a)
    stale = Case.objects.get(pk=case.pk)  # what the agent's request loaded: visible, team A
    mover_has_lock = threading.Event()

    def work(index: int) -> Any:
        if index == 0:  # the team lead moves the case to team B and holds the lock a moment
            with transaction.atomic():
                locked = Case.objects.select_for_update().get(pk=case.pk)
                mover_has_lock.set()
                time.sleep(0.5)  # the agent's request is now waiting for the row
                return services.case_update(actor=admin, case=locked, team=team_b.pk).team_id
        mover_has_lock.wait(30)
        time.sleep(0.1)
        try:
            ACTIONS[action](agent, stale)
        except NotFound:
            return "refused"
        return "done"

    with shared_database(tmp_path):
        results = in_parallel(work, 2)
        assert results == [team_b.pk, "refused"]
        fresh = Case.objects.get(pk=case.pk)
        assert fresh.subject != "Vom Agenten geändert" and fresh.status == "new"
        assert not Interaction.objects.filter(case=case, body_text="Notiz nach dem Wechsel").exists()
        assert not fresh.attachments.exists()
