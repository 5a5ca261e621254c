"""`leitplanke mail import PATH`: .eml files, a directory of them, an mbox or a Maildir."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import mailparse
from .models import InboundSource
from .run_cache import import_run
from .services import email_ingest


@dataclass
class ImportReport:
    total: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

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


def import_path(path: Path) -> ImportReport:
    report = ImportReport()
    started = time.perf_counter()
    with import_run():  # templates and the organisation's name are read once per run
        for raw in iter_raw_messages(path):
            result = email_ingest(raw, source=InboundSource.FILE)
            report.total += 1
            report.outcomes[result.status] += 1
    report.seconds = time.perf_counter() - started
    return report
