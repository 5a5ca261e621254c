#!/usr/bin/env python3
"""Leitplanke's HTTP benchmark, measured with the peers' client (../shared/peers/httpbench.py)
so that both columns of a comparison come from the same measuring code.

    python bench/run.py [--n 100000] [--db sqlite|postgres] [--no-peer] [--peer-result FILE]
                        [--only a,b] [--keep] [--port P]

Steps (each bounded by a timeout; gunicorn and the scratch database are always removed):
 1. scratch data dir (SQLite) or database leitplanke_bench_<pid> on 127.0.0.1:5432 (PostgreSQL)
 2. migrate, `leitplanke seed --cases N` (timed), collectstatic
 3. bench user (quality manager: the list shows all N cases) + API token, deep cursor at 90 %
 4. gunicorn, 2 sync workers, 127.0.0.1, DEBUG off, LEITPLANKE_QUERY_COUNT_HEADER=1
 5. log in like a browser (CSRF + session cookie), write the plan, run httpbench
 6. bench/results/leitplanke-<db>-<N>.json (same top-level fields as the peer's)
 7. unless --no-peer: the peer harness for the same N and database, then compare.py
 8. docs/benchmarks.md: the generated section for this run is replaced
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.cookiejar
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from machine_load import LoadRecorder, describe, scenario_window

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEERS = (ROOT / ".." / "shared" / "peers").resolve()
RESULTS = BENCH / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
PYTHON = sys.executable
SEARCH_WORD = "Zählerstand"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Stop(Exception):
    pass


def _on_signal(signum: int, _frame: Any) -> None:
    raise Stop(f"signal {signum}")


def free_port(start: int = 18800) -> int:
    for port in range(start, start + 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("bench: no free port")


def run(cmd: list[str], env: dict[str, str], timeout: float, capture: bool = False) -> str:
    log("$ " + " ".join(cmd[:6]) + (" …" if len(cmd) > 6 else ""))
    result = subprocess.run(
        cmd, env=env, cwd=ROOT, timeout=timeout, check=False, text=True, stdout=subprocess.PIPE if capture else None
    )
    if result.returncode != 0:
        raise SystemExit(f"bench: {cmd[2] if len(cmd) > 2 else cmd[0]} failed with exit code {result.returncode}")
    return result.stdout or ""


def stop_process(process: subprocess.Popen | None, seconds: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=seconds)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_ready(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("bench: gunicorn exited early")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"bench: {url} not ready after {seconds} s")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def browser_login(base: str, email: str, password: str) -> str:
    """GET the login form, POST it with the CSRF token, return the Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    with opener.open(base + "/accounts/login/", timeout=60) as response:
        html = response.read().decode("utf-8", "replace")
    match = CSRF_INPUT.search(html)
    if not match:
        raise SystemExit("bench: no CSRF token on the login page")
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": match.group(1), "email": email, "password": password}).encode()
    request = urllib.request.Request(base + "/accounts/login/", data=form, headers={"Referer": base + "/accounts/login/"})
    try:
        with opener.open(request, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    cookies = {c.name: c.value for c in jar}
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"bench: login failed (status {status})")
    return f"sessionid={cookies['sessionid']}; csrftoken={cookies.get('csrftoken', '')}"


def probe(base: str, path: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(base + path, headers=headers)
    opener = urllib.request.build_opener(NoRedirect())
    try:
        with opener.open(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


def make_plan(base: str, cookie: str, info: dict[str, Any]) -> dict[str, Any]:
    bearer = {"Authorization": f"Bearer {info['token']}", "Accept": "application/json"}
    search = "/cases/?q=" + urllib.parse.quote(SEARCH_WORD)
    deep = "/cases/?cursor=" + urllib.parse.quote(info["deep_cursor"], safe="")
    return {
        "base_url": base,
        "headers": {"Cookie": cookie},
        "meta": {
            "list_rows": info["list_rows"],
            "deep_position": info["deep_position"],
            "search_word": SEARCH_WORD,
            "search_rows": info["search_rows"],
        },
        "scenarios": [
            {
                "name": "api_create",
                "concurrency": 8,
                "requests": 2000,
                "duration_s": 60,
                "steps": [
                    {
                        "method": "POST",
                        "path": "/api/v1/cases",
                        "headers": bearer,
                        "json": {
                            "case_type": "complaint",
                            "subject": "Benchmark-Beschwerde ${n}",
                            "description": "Vom Benchmark angelegt, Durchlauf ${n}. Zählerstand falsch übernommen.",
                            "channel": "web_form",
                            "priority": 3,
                            "language": "de",
                        },
                        "expect": [201],
                    }
                ],
            },
            # The list page renders its rows on the server: one request per page view.
            {
                "name": "list_page1",
                "concurrency": 4,
                "requests": 400,
                "duration_s": 60,
                "steps": [{"path": "/cases/", "expect": [200]}],
            },
            {
                "name": "list_deep",
                "concurrency": 4,
                "requests": 400,
                "duration_s": 60,
                "steps": [{"path": deep, "expect": [200]}],
            },
            # What agents open by default: open cases by their next due time (deadline clocks).
            {
                "name": "list_next_due",
                "concurrency": 4,
                "requests": 400,
                "duration_s": 60,
                "steps": [{"path": "/cases/?sort=due", "expect": [200]}],
            },
            {"name": "search", "concurrency": 4, "requests": 400, "duration_s": 60, "steps": [{"path": search, "expect": [200]}]},
            {
                "name": "detail",
                "concurrency": 4,
                "requests": 1000,
                "duration_s": 60,
                "vars": {"id": {"randint": [info["min_id"], info["max_id"]]}},
                "steps": [{"path": "/cases/${id}/", "expect": [200]}],
            },
            {
                "name": "api_list_page1",
                "concurrency": 1,
                "requests": 200,
                "duration_s": 60,
                "timeout_s": 60,
                "steps": [{"path": "/api/v1/cases?limit=25", "headers": bearer, "expect": [200]}],
            },
        ],
    }


def machine_check_seconds() -> float:
    """A fixed pure-Python loop, timed: this shared machine's speed drifts by tens of percent
    from hour to hour, and this figure lets readers compare runs made at different times."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return round(time.perf_counter() - started, 3)


def db_version(env: dict[str, str], db: str) -> str:
    code = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor(); "
        "c.execute('select sqlite_version()' if connection.vendor == 'sqlite' else 'show server_version'); "
        "print(c.fetchone()[0])"
    )
    out = run([PYTHON, "-c", code], env, 60, capture=True).strip()
    return f"SQLite {out}" if db == "sqlite" else f"PostgreSQL {out}"


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def write_docs(result: dict[str, Any], compare_md: str, args: argparse.Namespace, peer_file: Path | None) -> None:
    key = f"{result['db']}-{result['n']}"
    start, end = f"<!-- bench:{key} start -->", f"<!-- bench:{key} end -->"
    rows = [
        "| scenario | clients | iterations | errors (timeouts) | req/s | p50 ms | p95 ms | p99 ms | SQL per iteration (p50) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in result["scenarios"].items():
        lat = s["latency_ms"]
        queries = s["queries"]["p50"] if s.get("queries") else "-"
        rows.append(
            f"| `{name}` | {s['concurrency']} | {s['requests']:,} | {s['errors']} ({s['timeouts']}) | {s['rps']} | "
            f"{lat['p50']:,.0f} | {lat['p95']:,.0f} | {lat['p99']:,.0f} | {queries} |"
        )
    section = [
        start,
        f"### {result['db']} ({result['db_version']}), N = {result['n']:,} — measured {result['date']}",
        "",
        f"Command: `python bench/run.py --n {result['n']} --db {result['db']}`"
        + (" --no-peer" if args.no_peer else "")
        + f" (`make bench N={result['n']} DB={result['db']}`). "
        f"Seeded {result['n']:,} cases in {result['seed_seconds']} s ({result['seed_rate_per_s']:,} cases/s, "
        "with customers, contracts, timelines and search documents)"
        + (
            f"; planner statistics refreshed afterwards in {result['analyze_seconds']} s."
            if result.get("analyze_seconds") is not None
            else "."
        ),
        "",
        *rows,
        "",
    ]
    if loop := result["machine"].get("python_loop_seconds"):
        section += [f"Machine check before the scenarios: a fixed pure-Python loop took {loop} s (lower is faster).", ""]
    if load := result["machine"].get("load"):
        section += [*(f"- {line}" for line in describe(load)), ""]
    if result["notes"].get("not_run"):
        section += [f"Not measured: {', '.join(result['notes']['not_run'])}.", ""]
    if compare_md:
        section += [
            f"Side by side with django-helpdesk ({peer_file.name if peer_file else 'peer'}), "
            "ratios above 1 mean Leitplanke is faster:",
            "",
            compare_md.strip(),
            "",
        ]
    section.append(end)
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n\n## Results\n"
    block = "\n".join(section)
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOCS.write_text(text, encoding="utf-8")
    log(f"updated {DOCS.relative_to(ROOT)}")


def peer_command(n: int, db: str, port: int, out: Path) -> list[str]:
    """The peer harness on the port this run was given (Leitplanke's server has stopped by then),
    so that the whole benchmark stays on the ports assigned to it."""
    script = PEERS / "django-helpdesk" / "run.sh"
    return [str(script), "--tickets", str(n), "--db", db, "--port", str(port), "--out", str(out)]


def server_env(scratch: Path) -> dict[str, str]:
    """The environment of every Leitplanke process a benchmark starts: development settings
    with DEBUG off, a fresh secret key, the X-Queries header, no mail leaving, data in `scratch`."""
    return {
        **os.environ,
        "LEITPLANKE_DATA_DIR": str(scratch),
        "DJANGO_SETTINGS_MODULE": "leitplanke.config.settings.dev",
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "LEITPLANKE_SECRET_KEY": secrets.token_urlsafe(50),
        "LEITPLANKE_DEBUG": "0",
        "LEITPLANKE_QUERY_COUNT_HEADER": "1",
        "LEITPLANKE_LOG_LEVEL": "WARNING",
        "LEITPLANKE_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    }


def start_server(env: dict[str, str], scratch: Path, port: int, timeout: int = 120) -> subprocess.Popen:
    """gunicorn as every benchmark serves Leitplanke: 2 sync workers on 127.0.0.1:`port`, its
    errors in `scratch`/gunicorn.log, in a session of its own (so `stop_process` ends it with its
    workers). The caller waits for it with `wait_ready` and stops it with `stop_process`."""
    return subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "leitplanke.config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--worker-class", "sync", "--timeout", str(timeout), "--graceful-timeout", "5",
         "--error-logfile", str(scratch / "gunicorn.log")],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip


def seed(args: argparse.Namespace, env: dict[str, str], recorder: LoadRecorder) -> tuple[float, float, float | None]:
    """migrate and `leitplanke seed --cases N --clocks`; returns (seed, whole command, analyse) seconds."""
    run([PYTHON, "-m", "leitplanke.cli", "migrate"], env, 600)
    started = time.monotonic()
    seed_started = time.time()
    seed_out = run(
        [PYTHON, "-m", "leitplanke.cli", "seed", "--cases", str(args.n), "--clocks"], env, max(900, args.n / 100), capture=True
    )
    recorder.phase("seed", seed_started, time.time())
    seed_total = round(time.monotonic() - started, 1)
    print(seed_out, file=sys.stderr)
    match = re.search(r"seed_cases_seconds=([\d.]+)", seed_out)
    seed_seconds = float(match.group(1)) if match else seed_total
    match = re.search(r"analyze_seconds=([\d.]+)", seed_out)
    return seed_seconds, seed_total, float(match.group(1)) if match else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=int(os.environ.get("N", 100_000)))
    parser.add_argument("--db", choices=["sqlite", "postgres"], default=os.environ.get("DB", "sqlite"))
    parser.add_argument("--no-peer", action="store_true", help="do not run the django-helpdesk harness")
    parser.add_argument("--peer-result", type=Path, help="compare with this peer result file instead of running the peer")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="port for the servers: Leitplanke's and then the peer's (default: a free port each)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch data dir / database")
    parser.add_argument(
        "--database",
        default="",
        help="PostgreSQL only: measure an existing database (kept by an earlier --keep run) without seeding; "
        "writes leitplanke-postgres-<N>-rerun.json and leaves docs/benchmarks.md alone",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="leitplanke-bench-"))
    pg_name = args.database or f"leitplanke_bench_{os.getpid()}"
    if args.database and args.db != "postgres":
        parser.error("--database needs --db postgres")
    env = server_env(scratch)
    if args.db == "postgres":
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
    else:
        env.pop("DATABASE_URL", None)
    server: subprocess.Popen | None = None
    pg_created = False
    out = RESULTS / f"leitplanke-{args.db}-{args.n}{'-rerun' if args.database else ''}.json"
    recorder = LoadRecorder(
        interval=0.5, pg_dsn=f"postgresql://postgres@127.0.0.1:5432/{pg_name}" if args.db == "postgres" else None
    )
    baseline = recorder.measure_baseline()
    log(f"machine before the run: load average {baseline['load1']}, CPUs {baseline['busy']} busy")
    try:
        if args.db == "postgres" and not args.database:
            pg_admin(f'CREATE DATABASE "{pg_name}"')
            pg_created = True
        recorder.start()
        seed_seconds = seed_total = analyze_seconds = None
        if not args.database:
            seed_seconds, seed_total, analyze_seconds = seed(args, env, recorder)
        run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v", "0"], env, 300)
        password = secrets.token_urlsafe(16) + "-Aa1"
        info = json.loads(
            run([PYTHON, str(BENCH / "prepare.py"), "bench@bench.leitplanke.example", password], env, 600, capture=True)
            .strip()
            .splitlines()[-1]
        )
        version = db_version(env, args.db)
        port = args.port or free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(env, scratch, port)
        wait_ready(base + "/healthz", server, 60)
        cookie = browser_login(base, info["email"], password)
        plan = make_plan(base, cookie, info)
        bearer = {"Authorization": f"Bearer {info['token']}"}
        not_run = []
        for scenario in plan["scenarios"]:
            step = scenario["steps"][0]
            if step.get("method") == "POST":
                continue
            path = step["path"].replace("${id}", str(info["min_id"]))
            status = probe(base, path, {**step.get("headers", {}), "Cookie": cookie, **bearer})
            if status != 200:
                log(f"scenario {scenario['name']}: {path} answers {status}; left out")
                not_run.append(f"{scenario['name']} ({path} answered {status})")
        skipped = {entry.split(" ")[0] for entry in not_run}
        only = {name for name in args.only.split(",") if name}
        plan["scenarios"] = [s for s in plan["scenarios"] if s["name"] not in skipped and (not only or s["name"] in only)]
        plan_file, raw_file = scratch / "plan.json", scratch / "httpbench.json"
        plan_file.write_text(json.dumps(plan, ensure_ascii=False, indent=2), encoding="utf-8")
        budget = sum(s.get("duration_s", 60) + s.get("timeout_s", 30) + 15 for s in plan["scenarios"]) + 120
        machine_check = machine_check_seconds()
        run([PYTHON, str(PEERS / "httpbench.py"), "--plan", str(plan_file), "--out", str(raw_file)], env, budget)
        bench = json.loads(raw_file.read_text(encoding="utf-8"))
        for scenario in bench["scenarios"]:
            if window := scenario_window(scenario):
                recorder.phase(scenario["name"], *window)
        import django
        import gunicorn
    except Stop as stop:
        log(f"stopped by {stop}")
        return 130
    finally:
        stop_process(server)
        if pg_created and not args.keep:
            try:
                pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            except Exception as error:
                log(f"could not drop {pg_name}: {error}")
        if args.keep:
            log(f"kept {scratch}" + (f" and database {pg_name}" if pg_created else ""))
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    try:
        from importlib.metadata import version as package_version

        leitplanke_version = package_version("leitplanke")
    except Exception:
        leitplanke_version = "0"
    result = {
        "system": "leitplanke",
        "version": leitplanke_version,
        "django": django.get_version(),
        "python": platform.python_version(),
        "server": f"gunicorn {gunicorn.__version__}, 2 sync workers, 127.0.0.1",
        "workers": 2,
        "db": args.db,
        "db_version": version,
        "n": args.n,
        "seed_seconds": seed_seconds,
        "seed_rate_per_s": round(args.n / seed_seconds) if seed_seconds else None,
        "seed_command_seconds": seed_total,
        "analyze_seconds": analyze_seconds,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "host": platform.node(),
            "python_loop_seconds": machine_check,
        },
        "client": "httpbench",
        "notes": {**plan["meta"], "not_run": not_run},
        "scenarios": {s["name"]: s for s in bench["scenarios"]},
    }
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"results written to {out.relative_to(ROOT)}")

    peer_file: Path | None = args.peer_result
    if not args.no_peer and peer_file is None:
        peer_file = RESULTS / f"django-helpdesk-{args.db}-{args.n}.json"
        try:
            with recorder.during("peer (django-helpdesk, whole harness)"):
                subprocess.run(
                    peer_command(args.n, args.db, args.port or free_port(18900), peer_file),
                    cwd=ROOT,
                    timeout=2400,
                    check=True,
                )
        except (subprocess.SubprocessError, OSError) as error:
            log(f"peer run failed: {error}")
            peer_file = None
    # The load over the whole run, the peer's part included, printed with the figures.
    recorder.stop()
    result["machine"]["load"] = recorder.report()
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in describe(result["machine"]["load"]):
        log(line)
    compare_md = ""
    if peer_file is not None and peer_file.exists():
        compare_md = subprocess.run(
            [PYTHON, str(PEERS / "compare.py"), str(out), str(peer_file), "--markdown"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
        print(compare_md)
    if not args.database:
        write_docs(result, compare_md, args, peer_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
