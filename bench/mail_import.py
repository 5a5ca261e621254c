"""Measures `leitplanke mail import` on a generated mbox (default 10,000 messages).

    python bench/mail_import.py [--messages N] [--db sqlite|postgres] [--database NAME] [--keep]

The mbox mixes what a complaints mailbox receives: new complaints (German and English,
some with attachments), replies that thread onto earlier ones, automatic replies and
duplicates. Runs in a scratch data directory (or a fresh PostgreSQL database, dropped
afterwards) and writes bench/results/mail-import-<db>-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
SUBJECTS_DE = [
    "Falscher Zählerstand",
    "Abschlag zu hoch",
    "Doppelte Abbuchung",
    "Kartengebühr nicht nachvollziehbar",
    "Beschwerde über Hotline",
    "Rückbuchung meiner Überweisung",
    "Schlussrechnung fehlt",
]
SUBJECTS_EN = ["Wrong meter reading", "Card fee charged twice", "Refund still missing", "Complaint about your service"]
BODY = (
    "Sehr geehrte Damen und Herren,\n\nich beschwere mich über {topic}. Bitte prüfen Sie den Vorgang.\n\n"
    "Mit freundlichen Grüßen\n{name}\n"
)


def build_mbox(path: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    box = mailbox.mbox(str(path), create=True)
    sent: list[tuple[str, str]] = []
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    box.lock()
    try:
        for n in range(count):
            msg = EmailMessage()
            sender = f"kunde{rng.randint(1, count // 3)}@example.de"
            msg["From"] = f"Kunde {n} <{sender}>"
            msg["To"] = "beschwerde@stadtwerke-rheinfeld.example"
            msg["Date"] = format_datetime(start + timedelta(minutes=n * 7))
            roll = rng.random()
            if roll < 0.15 and sent:
                parent_id, parent_subject = rng.choice(sent)
                msg["Subject"] = f"AW: {parent_subject}"
                msg["In-Reply-To"] = parent_id
                msg["References"] = parent_id
            elif roll < 0.20:
                msg["Subject"] = "Automatische Antwort: Ihre Nachricht"
                msg["Auto-Submitted"] = "auto-replied"
            else:
                msg["Subject"] = rng.choice(SUBJECTS_DE if rng.random() < 0.7 else SUBJECTS_EN)
            message_id = make_msgid(domain="mail.example.de")
            if roll > 0.98 and sent:
                message_id = sent[-1][0]  # a duplicate delivery
            msg["Message-ID"] = message_id
            msg.set_content(BODY.format(topic=msg["Subject"], name=f"Kunde {n}"))
            if rng.random() < 0.1:
                msg.add_attachment(
                    b"%PDF-1.4\n% bench\n" + bytes(rng.getrandbits(8) for _ in range(2000)),
                    maintype="application",
                    subtype="pdf",
                    filename=f"Rechnung-{n}.pdf",
                )
            box.add(msg)
            sent.append((message_id, str(msg["Subject"])))
    finally:
        box.flush()
        box.unlock()
        box.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--database", help="PostgreSQL database to create and drop (default: leitplanke_mailbench_<pid>)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lp-mailbench-"))
    env = {
        **os.environ,
        "LEITPLANKE_DATA_DIR": str(work),
        "DJANGO_SETTINGS_MODULE": "leitplanke.config.settings.dev",
        "LEITPLANKE_SECRET_KEY": secrets.token_urlsafe(50),  # the command refuses the public dev key
        "LEITPLANKE_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LEITPLANKE_LOG_LEVEL": "WARNING",
    }
    database = args.database or f"leitplanke_mailbench_{os.getpid()}"
    if args.db == "postgres":
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
        _pg(f'CREATE DATABASE "{database}"')
    try:
        subprocess.run([str(PYTHON), "-m", "leitplanke.cli", "migrate"], env=env, check=True, timeout=600, capture_output=True)
        mbox = work / "bench.mbox"
        built = time.perf_counter()
        build_mbox(mbox, args.messages)
        print(f"built {args.messages} messages ({mbox.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - built:.1f} s")
        load_before = os.getloadavg()
        started = time.perf_counter()
        result = subprocess.run(
            [str(PYTHON), "-m", "leitplanke.cli", "mail", "import", str(mbox)],
            env=env,
            check=True,
            timeout=3600,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()
        summary = result.stdout.strip().splitlines()[-1]  # one line per message, then the summary
        print(summary)
        print(f"wall time including start-up: {seconds:.1f} s = {args.messages / seconds:.0f} messages/s")
        print(f"machine load (1-minute average) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
        out = ROOT / "bench" / "results" / f"mail-import-{args.db}-{args.messages}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "system": "leitplanke",
                    "what": "leitplanke mail import (mbox)",
                    "db": args.db,
                    "messages": args.messages,
                    "seconds": round(seconds, 1),
                    "messages_per_s": round(args.messages / seconds, 1),
                    "summary": summary,
                    "load_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                },
                indent=2,
            )
        )
        print(f"wrote {out.relative_to(ROOT)}")
    finally:
        if args.db == "postgres":
            _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(sql)


if __name__ == "__main__":
    sys.exit(main())
