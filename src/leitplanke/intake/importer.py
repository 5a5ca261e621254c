"""`leitplanke mail import PATH`: .eml files, a directory of them, an mbox or a Maildir."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from leitplanke.core import storedfiles
from leitplanke.core.context import RequestContext, reset_request_context, set_request_context

from . import mailparse
from .models import InboundSource, InboundStatus
from .run_cache import import_run
from .services import IngestResult, email_ingest

# Messages per transaction: fewer commits, and short enough that the web application's
# writes (which wait for the import's write lock on SQLite) wait a fraction of a second.
BATCH_SIZE = 25
# Outcomes that mean "something went wrong with this message" for the exit code.
FAILED = {InboundStatus.QUARANTINED}


@dataclass
class ImportReport:
    total: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(self.outcomes[status] for status in FAILED)

    @property
    def ok(self) -> bool:
        """Something was imported and nothing failed (the command's exit code)."""
        return self.total > 0 and self.failed == 0

    def summary(self) -> str:
        parts = ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items()))
        return f"Imported {self.total} messages in {self.seconds:.1f} s ({self.rate:.0f}/s): {parts or 'nothing'}"


def iter_raw_messages(path: Path) -> Iterator[bytes]:
    if path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        yield from mailparse.iter_maildir(path)
    elif path.is_dir() or path.suffix.lower() == ".eml":
        for eml in mailparse.iter_eml_paths(path):
            yield eml.read_bytes()
    elif path.is_file():
        yield from mailparse.iter_mbox(path)
    else:
        raise FileNotFoundError(f"{path} is neither an .eml file, a directory, an mbox nor a Maildir")


def describe(number: int, result: IngestResult) -> str:
    """One line per message: what became of it."""
    inbound = result.inbound
    parts = [f"{number:>6}", f"{result.status:<11}", result.case.reference if result.case else "-"]
    parts.append(inbound.from_address or "-")
    parts.append(repr(inbound.subject[:80]) if inbound.subject else "-")
    if result.status not in (InboundStatus.NEW_CASE, InboundStatus.THREADED) and inbound.reason:
        parts.append(f"({inbound.reason_code or inbound.reason[:120]})")
    return "  ".join(parts)


def import_path(path: Path, *, on_message: Callable[[int, IngestResult], None] | None = None) -> ImportReport:
    """Imports every message, committing in batches of BATCH_SIZE (each message's steps
    are savepoints inside the batch): a crash loses at most the open batch, which the
    next run imports again (the Message-ID or content of what was committed is known)."""
    report = ImportReport()
    started = time.perf_counter()
    with import_run():  # templates and the organisation's name are read once per run
        for batch in _batches(iter_raw_messages(path), BATCH_SIZE):
            # Like a request: reference data is checked once per batch (core.refcache).
            context = set_request_context(RequestContext(request_id=f"mail-import-{report.total}", reference_generation=[None]))
            try:
                with transaction.atomic():
                    results = [email_ingest(raw, source=InboundSource.FILE) for raw in batch]
            finally:
                reset_request_context(context)
                storedfiles.settle_quietly()  # files of messages rolled back inside the batch
            for result in results:
                report.total += 1
                report.outcomes[result.status] += 1
                if on_message is not None:
                    on_message(report.total, result)
    report.seconds = time.perf_counter() - started
    return report


def _batches(items: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
