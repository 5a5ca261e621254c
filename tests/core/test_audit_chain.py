"""The audit chain that nothing can jam or forge (issue 19, items 1–3): a total hash,
strict snapshots, the keyed chain, the guarded head, the insert guard, and what
`audit verify` reports (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from leitplanke.accounts.models import Language
from leitplanke.core import audit
from leitplanke.core.audit import (
    CHAIN_KEYED_ACTION,
    AuditChainBroken,
    audit_record,
    audit_seal,
    audit_seal_all,
    audit_verify,
    compute_hash,
    event_payload,
    sealing_key,
    snapshot,
    to_json_data,
)
from leitplanke.core.audit_guards import install_guards, remove_guards
from leitplanke.core.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db

KEY_A = "audit-key-a-for-tests-0123456789abcdefghijkl"
KEY_B = "audit-key-b-for-tests-0123456789abcdefghijkl"


def record(n: int = 3, action: str = "test.event", **after: Any) -> list[AuditEvent]:
    return [
        audit_record(actor="system", action=action, object_type="test", object_id=i, after={"i": i, **after}) for i in range(n)
    ]


def raw(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refused(sql: str, params: list[Any] | None = None) -> bool:
    """True when the database refuses the statement (the savepoint keeps the test's transaction usable)."""
    try:
        with transaction.atomic():
            raw(sql, params)
    except DatabaseError:
        return True
    return False


@pytest.fixture
def attacker() -> Iterator[None]:
    """What someone who owns the tables does first; the guards are back afterwards."""
    remove_guards(connection)
    yield
    install_guards(connection)


def seal_unkeyed(events: list[AuditEvent]) -> None:
    """Seals as the code before the keyed chain did: SHA-256, no key id, head without a MAC."""
    head = AuditChainHead.objects.get(pk=1)
    seq, prev = head.last_seq, head.last_hash or audit.GENESIS_HASH
    for event in events:
        event = AuditEvent.objects.get(pk=event.pk)
        seq += 1
        event.seq, event.prev_hash = seq, prev
        event.hash = compute_hash(event)
        raw("UPDATE core_auditchainhead SET last_seq = %s, last_hash = %s WHERE id = 1", [seq, event.hash])
        raw(
            "UPDATE core_auditevent SET seq = %s, prev_hash = %s, hash = %s, sealed_at = %s WHERE id = %s",
            [seq, prev, event.hash, timezone.now(), event.pk],
        )
        prev = event.hash


# --- item 1: one string cannot jam the chain ----------------------------------------------------


def legacy_event(**overrides: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "seq": 7,
        "occurred_at": dt.datetime(2026, 3, 2, 9, 15, 0, 123456, tzinfo=dt.UTC),
        "actor_id": 3,
        "actor_label": "ada@example.org",
        "action": "case.transition",
        "object_type": "cases.case",
        "object_id": "12",
        "before": {"status": "new"},
        "after": {"status": "in_progress", "note": 'Grüße, 😀 "quoted" \\ backslash\ttab'},
        "request_id": "req-1",
        "ip": "192.0.2.1",
        "prev_hash": "ab" * 32,
    }
    fields.update(overrides)
    event = AuditEvent(**fields)
    event.pk = 41
    return event


# Computed with the code before this change (strict UTF-8): events sealed then keep verifying.
SEALED_BEFORE = [
    ({}, "71b50849d14744b5dd4808fe0faa7207b8764fc3ce6b4a6a4f03ff9011c8c210"),
    (
        {
            "actor_id": None,
            "actor_label": "system",
            "before": None,
            "after": {"n": [1, 2, {"x": "ÄÖÜß€"}], "big": 12345678901234567890},
            "ip": None,
            "request_id": "",
        },
        "3b1f252331c0fa93841953782199958ae468ebad9a7bae919fdb1f76142bc7ba",
    ),
    (
        {"after": {"subject": "日本語テキスト, עברית, العربية, \u202etxt", "empty": ""}, "seq": 1, "prev_hash": "0" * 64},
        "3e4a40ec3019c7eca9bb7cc1b5e7a23da4e2a3070ac4403732563a4f11d26e30",
    ),
]


def hash_before(event: AuditEvent) -> str:
    """compute_hash as it was: strict UTF-8."""
    canonical = json.dumps(event_payload(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(("overrides", "expected"), SEALED_BEFORE)
def test_unkeyed_hashes_are_the_ones_sealed_before(overrides: dict[str, Any], expected: str) -> None:
    assert compute_hash(legacy_event(**overrides)) == expected


ORDINARY_TEXT = [
    "",
    "plain ASCII",
    "Zählerstand falsch abgelesen – „Rechnung“ 49,90 €",
    "\t\n\r\x01\x1f\x7f control characters",
    "😀🇩🇪 astral planes 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\u202e\u200b\ufeff direction and zero-width",
    "".join(chr(code) for code in range(0x20, 0xD800, 97)),
    "".join(chr(code) for code in range(0xE000, 0x110000, 4099)),
]


@pytest.mark.parametrize("text", ORDINARY_TEXT)
def test_the_total_hash_equals_the_old_one_for_every_ordinary_string(text: str) -> None:
    event = legacy_event(after={"text": text}, actor_label=text)
    assert compute_hash(event) == hash_before(event)


def test_the_hash_is_total_over_lone_surrogates() -> None:
    event = legacy_event(after={"field": "\ud800 and \udfff"})
    with pytest.raises(UnicodeEncodeError):
        hash_before(event)  # what jammed the sealer
    assert len(compute_hash(event)) == 64
    assert len(compute_hash(event, sealing_key())) == 64


def test_an_event_with_a_lone_surrogate_does_not_jam_the_sealer() -> None:
    """SQLite stores a lone surrogate in JSON (PostgreSQL refuses it, so inputs refuse it
    first: see tests/api/test_unstorable_text.py); the sealer seals it and everything after."""
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            record(1, text="\ud800")
        return
    record(1, text="\ud800")
    later = record(2)
    assert audit_seal_all() == 4  # the chain_keyed marker, the jammed event and two more
    assert AuditEvent.objects.get(pk=later[-1].pk).seq == 4
    report = audit_verify()
    assert report.ok and report.exit_code == 0, report.summary()


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        {"amount": 49.9},
        [1, 2.0],
        {"nested": {"deeper": [float("nan")]}},
        object(),
        b"bytes",
        {"lazy": type("Lazy", (), {"__str__": lambda self: "text"})()},
        {(1, 2): "tuple key"},
    ],
)
def test_snapshots_refuse_floats_and_unknown_types(value: Any) -> None:
    with pytest.raises(TypeError, match="audit snapshot"):
        to_json_data(value)


def test_snapshots_turn_known_types_into_plain_json() -> None:
    when = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
    plain = to_json_data(
        {
            "choice": Language.GERMAN,
            "amount": decimal.Decimal("12.50"),
            "at": when,
            "day": when.date(),
            "id": uuid.UUID(int=1),
            "set": {3, 1, 2},
            "tuple": (1, "zwei"),
            4: True,
        }
    )
    assert plain == {
        "choice": "de",
        "amount": "12.50",
        "at": "2026-03-02T09:15:00+00:00",
        "day": "2026-03-02",
        "id": "00000000-0000-0000-0000-000000000001",
        "set": [1, 2, 3],
        "tuple": [1, "zwei"],
        "4": True,
    }
    assert type(plain["choice"]) is str
    assert json.loads(json.dumps(plain)) == plain


def test_snapshot_of_a_model_takes_choices_as_plain_strings(make_user: Any) -> None:
    user = make_user("agent", language="de")
    data = snapshot(user, ["email", "language", "is_active"])
    assert type(data["language"]) is str and data["language"] == "de"


def test_seeding_records_its_duration_without_a_float() -> None:
    from leitplanke.demo.cases import seed_demo_cases

    seed_demo_cases(3, seed=5)
    after = AuditEvent.objects.get(action="seed.bulk_cases").after
    assert isinstance(after["seconds"], str)
    decimal.Decimal(after["seconds"])


# --- item 2: the guarded head -------------------------------------------------------------------


def test_the_head_row_exists_before_anything_is_sealed() -> None:
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (0, "")


def test_the_database_refuses_to_remove_the_head_or_move_it_back() -> None:
    record(3)
    audit_seal_all()
    assert refused("DELETE FROM core_auditchainhead")
    assert refused("UPDATE core_auditchainhead SET last_seq = last_seq - 1")
    assert refused("UPDATE core_auditchainhead SET last_hash = %s", ["f" * 64])
    assert refused(
        "INSERT INTO core_auditchainhead (id, last_seq, last_hash, key_id, mac, updated_at) VALUES (2, 9, '', '', '', %s)",
        [timezone.now()],
    )
    if connection.vendor == "postgresql":
        assert refused("TRUNCATE core_auditchainhead")
    assert AuditChainHead.objects.get(pk=1).last_seq == 4
    assert audit_verify().ok


def test_verify_reports_a_missing_head_as_broken(attacker: None) -> None:
    record(2)
    audit_seal_all()
    raw("DELETE FROM core_auditchainhead")
    report = audit_verify()
    assert report.exit_code == audit.EXIT_BROKEN
    assert "head is missing while 3 sealed events exist" in report.first_broken
    with pytest.raises(AuditChainBroken):
        audit_seal()  # no silent restart at seq 1 (which failed for ever on UNIQUE seq)


# --- item 3: no forged history ------------------------------------------------------------------

INSERT_SQL = (
    "INSERT INTO core_auditevent (occurred_at, actor_label, action, object_type, object_id, request_id, "
    "prev_hash, hash, key_id, seq, sealed_at) VALUES (%s, 'x', 'case.transition', 'cases.case', '1', '', %s, %s, %s, %s, %s)"
)


def insert_params(
    occurred: dt.datetime | None = None, prev_hash: str = "", hash_: str = "", key_id: str = "", seq: int | None = None
) -> list[Any]:
    sealed_at = timezone.now() if seq else None
    return [occurred or timezone.now(), prev_hash, hash_, key_id, seq, sealed_at]


def test_the_database_takes_only_new_unsealed_current_events() -> None:
    assert not refused(INSERT_SQL, insert_params())
    assert refused(INSERT_SQL, insert_params(seq=99, prev_hash="0" * 64, hash_="a" * 64))
    assert refused(INSERT_SQL, insert_params(hash_="a" * 64))
    assert refused(INSERT_SQL, insert_params(prev_hash="0" * 64))
    assert refused(INSERT_SQL, insert_params(key_id="0123456789abcdef"))
    assert refused(INSERT_SQL, insert_params(occurred=timezone.now() - dt.timedelta(days=3)))  # back-dated
    assert refused(INSERT_SQL, insert_params(occurred=timezone.now() + dt.timedelta(hours=1)))


def test_the_hash_of_an_unsealed_event_cannot_be_set_so_the_sealer_is_not_jammed() -> None:
    event = record(1)[0]
    assert refused("UPDATE core_auditevent SET hash = %s WHERE id = %s", ["f" * 64, event.pk])
    assert refused("UPDATE core_auditevent SET prev_hash = %s WHERE id = %s", ["0" * 64, event.pk])
    # A fake "seal" beyond the head would take the seq the sealer needs next.
    beyond = [1, "0" * 64, "f" * 64, timezone.now(), event.pk]
    assert refused("UPDATE core_auditevent SET seq = %s, prev_hash = %s, hash = %s, sealed_at = %s WHERE id = %s", beyond)
    assert audit_seal_all() == 2
    assert audit_verify().ok


def test_verify_flags_events_inserted_back_dated(attacker: None) -> None:
    record(3)
    audit_seal_all()
    raw(INSERT_SQL, insert_params(occurred=timezone.now() - dt.timedelta(days=2)))
    forged = AuditEvent.objects.order_by("-id").first()
    record(1)
    install_guards(connection)
    audit_seal_all()
    report = audit_verify()
    assert report.ok  # the chain itself is whole
    assert report.exit_code == audit.EXIT_ALARM
    assert len(report.backdated) == 1 and f"id={forged.pk}" in report.backdated[0]
    assert "sealed long after they occurred" in report.summary()


def test_a_worker_outage_is_not_flagged_as_back_dating(attacker: None) -> None:
    """Events that waited for a sealer occurred in order; only an event older than ones
    already in the chain is suspicious."""
    for minutes in (90, 60, 30):
        raw(INSERT_SQL, insert_params(occurred=timezone.now() - dt.timedelta(minutes=minutes)))
    install_guards(connection)
    record(1)
    audit_seal_all()
    assert audit_verify().backdated == []


# --- the keyed chain ----------------------------------------------------------------------------


def test_the_chain_is_keyed_so_the_database_alone_cannot_recompute_it(attacker: None) -> None:
    events = record(3)
    audit_seal_all()
    first = AuditEvent.objects.get(seq=1)
    assert first.action == CHAIN_KEYED_ACTION and first.key_id == sealing_key().key_id
    target = AuditEvent.objects.get(pk=events[1].pk)
    assert target.hash != compute_hash(target)  # not plain SHA-256
    # Alter it and recompute every hash after it the way someone without the key can.
    raw("UPDATE core_auditevent SET after = %s WHERE id = %s", ['{"i": 99}', target.pk])
    prev = AuditEvent.objects.get(seq=target.seq - 1).hash
    for event in AuditEvent.objects.filter(seq__gte=target.seq).order_by("seq"):
        event.prev_hash = prev
        event.hash = compute_hash(event)  # unkeyed
        raw("UPDATE core_auditevent SET prev_hash = %s, hash = %s, key_id = '' WHERE id = %s", [prev, event.hash, event.pk])
        prev = event.hash
    raw("UPDATE core_auditchainhead SET last_hash = %s, key_id = '', mac = ''", [prev])
    report = audit_verify()
    assert report.exit_code == audit.EXIT_BROKEN
    assert f"id={target.pk}" in report.first_broken and "without the key" in report.first_broken


def test_a_chain_rewritten_entirely_without_the_key_is_broken(attacker: None) -> None:
    record(3)
    audit_seal_all()
    prev = audit.GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq"):
        raw("UPDATE core_auditevent SET key_id = '' WHERE id = %s", [event.pk])
        event = AuditEvent.objects.get(pk=event.pk)
        event.prev_hash = prev
        event.hash = compute_hash(event)
        raw("UPDATE core_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, event.hash, event.pk])
        prev = event.hash
    raw("UPDATE core_auditchainhead SET last_hash = %s, key_id = '', mac = ''", [prev])
    report = audit_verify()
    assert not report.ok
    assert "no event is sealed with a key although one is configured" in report.first_broken


def test_removing_the_newest_events_needs_the_key_too(attacker: None) -> None:
    record(4)
    audit_seal_all()
    last = AuditEvent.objects.order_by("-seq").first()
    before_last = AuditEvent.objects.get(seq=last.seq - 1)
    raw("DELETE FROM core_auditevent WHERE id = %s", [last.pk])
    raw("UPDATE core_auditchainhead SET last_seq = %s, last_hash = %s", [before_last.seq, before_last.hash])
    report = audit_verify()
    assert not report.ok
    assert "chain head" in report.first_broken and "rewritten" in report.first_broken


def test_a_chain_sealed_before_keying_still_verifies_and_is_continued_with_the_key() -> None:
    old = record(3)
    seal_unkeyed(old)
    report = audit_verify()
    assert not report.ok and "run the worker once" in report.first_broken  # keyed, never sealed with it
    newer = record(2)
    assert audit_seal_all() == 3
    keyed = list(AuditEvent.objects.filter(seq__gt=3).order_by("seq"))
    assert [event.action for event in keyed] == [CHAIN_KEYED_ACTION, "test.event", "test.event"]
    assert keyed[0].prev_hash == AuditEvent.objects.get(pk=old[-1].pk).hash  # the key vouches for the prefix
    assert {event.key_id for event in keyed} == {sealing_key().key_id}
    assert keyed[-1].pk == newer[-1].pk
    report = audit_verify()
    assert report.ok and report.exit_code == 0, report.summary()


def test_keys_rotate_and_a_retired_key_must_stay_for_verification() -> None:
    with override_settings(LEITPLANKE_AUDIT_KEY=KEY_A, LEITPLANKE_AUDIT_KEY_FALLBACKS=[]):
        record(2)
        audit_seal_all()
        key_a = sealing_key().key_id
    with override_settings(LEITPLANKE_AUDIT_KEY=KEY_B, LEITPLANKE_AUDIT_KEY_FALLBACKS=[KEY_A]):
        record(2)
        assert audit_seal_all() == 2  # key A is known: no second marker
        key_b = sealing_key().key_id
        assert audit_verify().ok
    ids = list(AuditEvent.objects.order_by("seq").values_list("key_id", flat=True))
    assert ids == [key_a] * 3 + [key_b] * 2
    with override_settings(LEITPLANKE_AUDIT_KEY=KEY_B, LEITPLANKE_AUDIT_KEY_FALLBACKS=[]):
        report = audit_verify()
    assert not report.ok
    assert f"sealed with key {key_a}, which is not configured" in report.first_broken
    assert len(report.problems) == 1  # once per key, not once per event


def test_sealing_without_a_key_is_refused() -> None:
    from django.core.exceptions import ImproperlyConfigured

    record(1)
    with override_settings(LEITPLANKE_AUDIT_KEY=""), pytest.raises(ImproperlyConfigured):
        audit_seal()
    with override_settings(LEITPLANKE_AUDIT_KEY="short"), pytest.raises(ImproperlyConfigured):
        audit_seal()


# --- missing guards -----------------------------------------------------------------------------


def test_verify_and_readyz_report_missing_guards(attacker: None) -> None:
    record(1)
    audit_seal_all()
    report = audit_verify()
    assert report.ok and report.exit_code == audit.EXIT_ALARM
    assert any("is missing" in problem for problem in report.guard_problems)
    checks = Client().get("/readyz").json()["checks"]
    assert checks["audit_guards"].startswith("alarm: audit guard")
    install_guards(connection)
    assert audit_verify().exit_code == 0
    assert Client().get("/readyz").json()["checks"]["audit_guards"] == "ok"


def test_a_changed_or_disabled_guard_is_reported() -> None:
    if connection.vendor == "postgresql":
        body = "BEGIN RETURN NEW; END;"
        raw(f"CREATE OR REPLACE FUNCTION leitplanke_audit_head_guard() RETURNS trigger AS $$ {body} $$ LANGUAGE plpgsql")
        raw("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_guard")
        expected = {"audit guard core_auditevent_guard is disabled", "was changed"}
    else:
        raw("DROP TRIGGER core_auditchainhead_no_rewind")
        raw("CREATE TRIGGER core_auditchainhead_no_rewind BEFORE UPDATE ON core_auditchainhead WHEN 0 BEGIN SELECT 1; END")
        expected = {"audit guard core_auditchainhead_no_rewind was changed"}
    problems = " | ".join(audit_verify().guard_problems)
    assert all(text in problems for text in expected), problems


# --- audit verify on the command line ------------------------------------------------------------


def test_cli_audit_verify_has_distinct_exit_codes(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from leitplanke.cli import main

    monkeypatch.setattr("leitplanke.cli._setup_django", lambda: None)
    record(2)
    audit_seal_all()
    assert main(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    record(1)
    monkeypatch.setattr(audit, "SEAL_ALARM_AFTER", dt.timedelta(seconds=-1))  # as if a minute had passed
    assert main(["audit", "verify"]) == 3
    assert "ALARM: 1 events unsealed" in capsys.readouterr().out
    remove_guards(connection)
    raw("UPDATE core_auditevent SET action = 'forged' WHERE seq = 2")
    assert main(["audit", "verify"]) == 1
    assert "BROKEN" in capsys.readouterr().out
    install_guards(connection)


def test_sealing_after_an_integrity_error_is_rolled_back_whole() -> None:
    """The head moves first; when an event cannot be sealed, neither is the head moved."""
    record(2)
    audit_seal_all()
    record(1)
    head = AuditChainHead.objects.get(pk=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        raw("UPDATE core_auditchainhead SET last_seq = last_seq + 1")  # allowed: forward
        raw(
            "UPDATE core_auditevent SET seq = %s, prev_hash = %s, hash = %s, sealed_at = %s WHERE seq IS NULL",
            [1, "0" * 64, "f" * 64, timezone.now()],
        )  # seq 1 is taken
    assert AuditChainHead.objects.get(pk=1).last_seq == head.last_seq
    assert audit_seal_all() == 1 and audit_verify().ok
