"""Files of rows are on disk only while a row owns them: staged, moved into place on commit,
deleted after a rollback, and swept when a crash left them behind."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import storages
from django.db import transaction

from leitplanke.cases import services
from leitplanke.cases.models import Attachment, Case, CaseType
from leitplanke.core import storedfiles
from leitplanke.core.tasks import sweep_stored_files
from tests.concurrency import in_parallel, shared_database

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF"
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "files"
    return Path(settings.MEDIA_ROOT)


def files_under(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def new_case() -> Case:
    case_type, _created = CaseType.objects.get_or_create(key="complaint", defaults={"name_de": "B", "name_en": "C"})
    return services.case_create(actor=None, case_type=case_type, subject="Rechnung", channel="email")


def make_old(path: Path, age: dt.timedelta = 2 * HOUR) -> None:
    then = time.time() - age.total_seconds()
    os.utime(path, (then, then))


@pytest.mark.django_db(transaction=True)
def test_a_committed_file_is_moved_into_place(media: Path) -> None:
    case = new_case()
    with transaction.atomic():
        attachment = services.attachment_add(actor=None, case=case, uploaded_file=("rechnung.pdf", PDF))
        staged = f"{storedfiles.STAGING}/{attachment.file.name}"
        assert files_under(media) == [staged]
        assert attachment.file.open("rb").read() == PDF  # readable in its own transaction already
    assert files_under(media) == [attachment.file.name]
    assert Attachment.objects.get().file.read() == PDF


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_file_is_deleted_when_the_work_ends(media: Path) -> None:
    case = new_case()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.attachment_add(actor=None, case=case, uploaded_file=("rechnung.pdf", PDF))
        raise RuntimeError("rolled back")
    assert not any(name.startswith("attachments/") for name in files_under(media))  # never in place
    assert storedfiles.settle() == 1
    assert files_under(media) == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_loses_only_its_own_file(media: Path) -> None:
    case = new_case()
    with transaction.atomic():
        kept = services.attachment_add(actor=None, case=case, uploaded_file=("behalten.pdf", PDF))
        with pytest.raises(RuntimeError), transaction.atomic():
            services.attachment_add(actor=None, case=case, uploaded_file=("verworfen.pdf", PDF))
            raise RuntimeError("savepoint rolled back")
    storedfiles.settle()
    assert files_under(media) == [kept.file.name]


@pytest.mark.django_db(transaction=True)
def test_the_sweep_finishes_interrupted_moves_and_deletes_what_no_row_owns(media: Path) -> None:
    case = new_case()
    interrupted = services.attachment_add(actor=None, case=case, uploaded_file=("a.pdf", PDF))
    kept = services.attachment_add(actor=None, case=case, uploaded_file=("b.pdf", PDF))
    # The process died between commit and move: the committed row's file is still staged.
    storage: Any = storages["default"]
    os.replace(storage.final_path(interrupted.file.name), storage.staged_path(interrupted.file.name))
    crashed = Path(storage.staged_path("attachments/00/crashed.pdf"))  # a rolled-back transaction, never settled
    orphan = Path(storage.final_path("attachments/00/orphan.pdf"))  # its row was deleted
    fresh_orphan = Path(storage.final_path("attachments/00/fresh.pdf"))
    unowned_dir = Path(storage.final_path("exports/report.csv"))  # not a directory the sweep looks at
    for path in (crashed, orphan, fresh_orphan, unowned_dir):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PDF)
    for path in (crashed, orphan, unowned_dir, Path(storage.staged_path(interrupted.file.name))):
        make_old(path)

    result = sweep_stored_files.call()

    assert result == {"moved": 1, "deleted_staged": 1, "deleted_orphans": 1}
    assert files_under(media) == sorted(["attachments/00/fresh.pdf", "exports/report.csv", interrupted.file.name, kept.file.name])
    assert Attachment.objects.get(pk=interrupted.pk).file.read() == PDF


@pytest.mark.django_db(transaction=True)
def test_raw_mail_of_a_refused_row_is_not_kept(media: Path) -> None:
    """The raw message is stored with its row; when the row cannot be saved (here: another
    fetch recorded the same mailbox UID a moment earlier) its bytes do not stay on disk."""
    from leitplanke.intake.models import InboundEmail, Mailbox
    from leitplanke.intake.services import email_ingest

    case_type, _created = CaseType.objects.get_or_create(key="complaint", defaults={"name_de": "B", "name_en": "C"})
    mailbox = Mailbox.objects.create(name="M", address="m@example.org", host="h", username="u", default_case_type=case_type)
    raw = b"From: a@example.org\r\nTo: m@example.org\r\nSubject: Hallo\r\nMessage-ID: <1@example.org>\r\n\r\nText\r\n"
    email_ingest(raw, source="imap", mailbox=mailbox, imap_uid=7)
    with pytest.raises(Exception, match=r"(?i)unique"):
        email_ingest(raw, source="imap", mailbox=mailbox, imap_uid=7)  # settles when it ends
    inbound = InboundEmail.objects.get()
    assert [name for name in files_under(media) if name.startswith("mail/")] == [inbound.raw.name]


@pytest.mark.django_db(transaction=True)
def test_the_sweep_never_touches_a_file_whose_row_is_being_committed(media: Path, tmp_path: Path) -> None:
    """One thread adds an attachment and keeps its transaction open while the other sweeps
    with no age margin for stored files; the file survives and is in place after the commit.
    Then a transaction deletes the row but has not committed: the sweep keeps the file too."""
    case = new_case()
    staged = threading.Event()
    swept = threading.Event()

    def add_and_commit_late() -> Attachment:
        with transaction.atomic():
            attachment = services.attachment_add(actor=None, case=case, uploaded_file=("spät.pdf", PDF))
            staged.set()
            assert swept.wait(60)
        return attachment

    def sweep_meanwhile() -> storedfiles.SweepResult:
        assert staged.wait(60)
        try:
            return storedfiles.sweep(stored_older_than=dt.timedelta(0))
        finally:
            swept.set()

    with shared_database(tmp_path):
        attachment, result = in_parallel(lambda index: (add_and_commit_late, sweep_meanwhile)[index](), 2)
        assert result.as_dict() == {"moved": 0, "deleted_staged": 0, "deleted_orphans": 0}
        assert files_under(media) == [attachment.file.name]
        assert storedfiles.sweep(stored_older_than=dt.timedelta(0)).deleted_orphans == 0

        deleting = threading.Event()
        checked = threading.Event()

        def delete_and_commit_late() -> None:
            with transaction.atomic():
                Attachment.objects.filter(pk=attachment.pk).delete()
                deleting.set()
                assert checked.wait(60)
                transaction.set_rollback(True)

        def sweep_while_deleting() -> int:
            assert deleting.wait(60)
            try:
                return storedfiles.sweep(stored_older_than=dt.timedelta(0)).deleted_orphans
            finally:
                checked.set()

        _none, deleted = in_parallel(lambda index: (delete_and_commit_late, sweep_while_deleting)[index](), 2)
        assert deleted == 0
        assert files_under(media) == [attachment.file.name]


# --- the test suite keeps out of the demo's files (issue 23) ---------------------------------


def _listing(directory: Path) -> list[tuple[str, int]]:
    if not directory.exists():
        return []
    return sorted((str(path.relative_to(directory)), path.stat().st_size) for path in directory.rglob("*") if path.is_file())


@pytest.mark.django_db(transaction=True)
def test_tests_store_files_in_a_temporary_directory_not_in_the_demos_var_files() -> None:
    from django.conf import settings as django_settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction

    demo_var = (Path(__file__).resolve().parents[2] / "var").resolve()  # where `make demo` keeps its data
    data_dir = Path(django_settings.DATA_DIR).resolve()
    assert Path(tempfile.gettempdir()).resolve() in data_dir.parents and not data_dir.is_relative_to(demo_var)
    for location in (django_settings.MEDIA_ROOT, django_settings.STATIC_ROOT, django_settings.EMAIL_FILE_PATH):
        assert Path(location).resolve().is_relative_to(data_dir), location
    if worker := os.environ.get("PYTEST_XDIST_WORKER"):
        assert data_dir == Path(os.environ[f"LEITPLANKE_TEST_TMP_{worker}"]).resolve()  # one directory per worker
    before = _listing(demo_var / "files")
    with transaction.atomic():
        name = default_storage.save("cases/probe/evidence.txt", ContentFile(b"not for the demo"))
    assert (Path(django_settings.MEDIA_ROOT) / name).read_bytes() == b"not for the demo"
    default_storage.delete(name)
    assert _listing(demo_var / "files") == before
