"""Catalogue benchmark: the listing, an event page and the JSON API against a bare endpoint.

    .venv/bin/python -m bench.catalog [--events 10000] [--duration 10] [--connections 50]
                                      [--threads 1] [--database sqlite|postgres] [--no-cache]

It builds a fresh database (a temporary SQLite file, or the PostgreSQL database
``events_bench``, dropped and created again), migrates it, bulk-inserts N published events,
then serves the app (``events serve``) and a bare Starlette endpoint (``bench/bare.py``, same
uvicorn options) on loopback ports, and loads both in the same run with wrk. It prints
requests per second and p50/p99 latency for each URL, with ratios to the bare endpoint (the
mean of a run before and a run after the app's, as a noise control). Finally it changes one
event's places-left behind the app's back and times how long the event page takes to show
it, which is bounded by the page cache's time to live. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "events_bench"
PG_BENCH_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
WRK = shutil.which("wrk") or "/usr/bin/wrk"

# The event whose page is loaded and whose places-left the freshness check changes.
PROBE_CAPACITY = 120
PROBE_PLACES_LEFT = 37


# --------------------------------------------------------------------------- data set-up


TOPICS = [
    "Workload", "Pay and conditions", "SEND", "Early career teachers", "Leadership",
    "Health and safety", "Equality", "Supply teachers", "Pensions", "Curriculum",
    "Assessment", "Wellbeing",
]  # fmt: skip
WORDS = [
    "planning", "marking", "inclusion", "support", "rights", "bargaining", "workshop",
    "briefing", "network", "clinic", "update", "roundtable", "forum", "training", "session",
]  # fmt: skip
TOWNS = [
    ("Newcastle", "NE1 4ST", 1), ("Manchester", "M1 2AB", 2), ("Leeds", "LS1 5DL", 3),
    ("Nottingham", "NG1 6FQ", 4), ("Birmingham", "B1 1BB", 5), ("Norwich", "NR2 1TL", 6),
    ("London", "WC1H 9BD", 7), ("Brighton", "BN1 1AA", 8), ("Bristol", "BS1 5TR", 9),
    ("Cardiff", "CF10 1EP", 10),
]  # fmt: skip
KINDS = ["webinar"] * 5 + ["meeting"] * 2 + ["training"] * 2 + ["campaign_event", "conference"]
FORMATS = ["online"] * 5 + ["in_person"] * 4 + ["hybrid"]
PROVISIONS = ["step_free", "bsl", "live_captions", "hearing_loop", "quiet_room"]
DESCRIPTION = (
    "Join colleagues for a practical session.\n\n"
    "- What the law and your contract say\n- How to raise it with your school\n"
    "- Where to get help from your rep\n\n"
    "Bring your questions; there is time for discussion at the end. **Free** for members."
)


def probe_slug(n_events: int) -> str:
    return f"bench-event-{n_events // 2}"


def _rows(n_events: int, now: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(20261123)  # the same data set on every run
    topics = [
        {
            "id": i,
            "slug": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"),
            "name": name,
            "summary": f"Events about {name.lower()}.",
            "description": "",
            "advice": "",
            "featured": i <= 6,
            "sort_order": i,
        }
        for i, name in enumerate(TOPICS, start=1)
    ]
    partners = [
        {"id": i, "slug": f"partner-{i}", "name": f"Partner {i}", "url": "", "description": ""}
        for i in range(1, 4)
    ]
    series = [
        {"id": i, "slug": f"series-{i}", "title": f"Series {i}", "summary": "", "description": ""}
        for i in range(1, 21)
    ]
    series_partners = [{"series_id": i, "partner_id": 1 + i % 3} for i in range(1, 21)]
    today = now.date()
    campaigns = [
        {
            "id": i,
            "slug": f"campaign-{i}",
            "title": f"Campaign day {i}",
            "summary": "",
            "description": "",
            "starts_on": today + dt.timedelta(days=30 * i),
            "ends_on": today + dt.timedelta(days=30 * i + 6),
        }
        for i in range(1, 4)
    ]
    events: list[dict[str, Any]] = []
    event_topics: list[dict[str, Any]] = []
    event_access: list[dict[str, Any]] = []
    probe = n_events // 2
    for i in range(1, n_events + 1):
        kind = rng.choice(KINDS)
        fmt = rng.choice(FORMATS)
        # About 90% upcoming (up to a year ahead), the rest in the last two months.
        if rng.random() < 0.9:
            starts = now + dt.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        else:
            starts = now - dt.timedelta(minutes=rng.randint(24 * 60, 60 * 24 * 60))
        starts = starts.replace(second=0, microsecond=0)
        capacity = rng.choice([30, 50, 80, 100, 200, 500])
        places_left = rng.randint(0, capacity)
        town, postcode, region_id = rng.choice(TOWNS)
        if i == probe:
            starts = (now + dt.timedelta(days=20)).replace(second=0, microsecond=0)
            capacity, places_left = PROBE_CAPACITY, PROBE_PLACES_LEFT
            kind, fmt = "webinar", "online"
        online = fmt == "online"
        events.append(
            {
                "id": i,
                "uid": f"bench-{i}@events",
                "slug": f"bench-event-{i}",
                "title": f"{rng.choice(TOPICS)}: {rng.choice(WORDS)} {rng.choice(WORDS)} ({i})",
                "summary": "A practical session for members, with time for questions.",
                "description": DESCRIPTION,
                "kind": kind,
                "format": fmt,
                "status": "published",
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(minutes=rng.choice([60, 90, 120, 180])),
                "timezone": "Europe/London",
                "all_day": False,
                "venue_name": "" if online else f"{town} Teachers' Centre",
                "venue_address": "" if online else f"1 High Street, {town}",
                "town": "" if online else town,
                "postcode": "" if online else postcode,
                "postcode_district": "" if online else postcode.split()[0],
                "region_id": None if online else region_id,
                "joining_url": "https://meet.example.org/j/123" if fmt != "in_person" else "",
                "capacity": capacity,
                "places_left": places_left,
                "waiting_list_enabled": rng.random() < 0.3,
                "registration_opens_at": None,
                "registration_closes_at": None,
                "members_only": rng.random() < 0.2,
                "access_notes": "",
                "organiser_name": "Events team",
                "organiser_email": "events@example.org",
                "ical_sequence": 0,
                "series_id": rng.randint(1, 20) if rng.random() < 0.15 else None,
                "campaign_id": (
                    rng.randint(1, 3) if kind == "campaign_event" and i != probe else None
                ),
                "created_at": now,
                "updated_at": now,
                "published_at": now,
            }
        )
        for topic_id in rng.sample(range(1, len(TOPICS) + 1), rng.randint(1, 3)):
            event_topics.append({"event_id": i, "topic_id": topic_id})
        for code in rng.sample(PROVISIONS, rng.randint(0, 3)):
            event_access.append({"event_id": i, "provision_code": code})
    return {
        "topics": topics,
        "partners": partners,
        "series": series,
        "series_partners": series_partners,
        "campaigns": campaigns,
        "events": events,
        "event_topics": event_topics,
        "event_access_provisions": event_access,
    }


async def _fill(url: str, n_events: int) -> None:
    """Bulk inserts straight into the tables: a benchmark's data set-up, not app behaviour."""
    from sqlalchemy import text

    import events.models  # noqa: F401  (every table on the metadata)
    from events.db import Base, make_engine

    rows = _rows(n_events, dt.datetime.now(dt.UTC))
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            for name, table_rows in rows.items():
                table = Base.metadata.tables[name]
                for start in range(0, len(table_rows), 2000):
                    await conn.execute(table.insert(), table_rows[start : start + 2000])
            if engine.dialect.name == "postgresql":
                # Ids were given explicitly: move the sequences past them.
                for name in ("topics", "partners", "series", "campaigns", "events"):
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT max(id) FROM {name}))"
                        )
                    )
                await conn.execute(text("ANALYZE"))
        if engine.dialect.name == "sqlite":
            async with engine.connect() as conn:
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()


async def _recreate_postgres() -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    finally:
        await conn.close()


async def _set_places_left(url: str, slug: str, value: int) -> None:
    """Change places-left the way another worker process would: the app is not told."""
    from sqlalchemy import text

    from events.db import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE events SET places_left = :v WHERE slug = :s"), {"v": value, "s": slug}
            )
    finally:
        await engine.dispose()


def prepare_database(kind: str, workdir: Path, n_events: int) -> str:
    from events import schema

    if kind == "postgres":
        asyncio.run(_recreate_postgres())
        url = PG_BENCH_URL
    else:
        url = f"sqlite:///{workdir / 'bench_test.sqlite3'}"
    started = time.perf_counter()
    schema.upgrade(url)
    asyncio.run(_fill(url, n_events))
    print(f"database: {url} ({n_events} events, {time.perf_counter() - started:.1f}s to build)")
    return url


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    base: str

    def stop(self) -> None:
        """Stop the whole process group: TERM, then KILL if it lingers."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) used so far by the server's process group."""
        return process_group_cpu(self.process.pid)

    def settle(self, timeout: float = 15.0) -> None:
        """Wait until the server is idle (it may still be working off the last run's queue),
        so that one run's backlog does not eat into the next run's CPU."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            after = self.cpu_seconds()
            if after - before < 0.02:
                return
            before = after

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


_TICKS = os.sysconf("SC_CLK_TCK")


def process_group_cpu(pgid: int) -> float:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == pgid:  # field 5, pgrp; utime and stime are fields 14 and 15
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def start(name: str, argv: Sequence[str], env: dict[str, str], log: Path, port: int) -> Server:
    handle = log.open("wb")
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches every child
        )
    finally:
        handle.close()
    return Server(name, process, log, f"http://127.0.0.1:{port}")


def get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def wait_ready(server: Server, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited early:\n{server.log_tail()}")
        with contextlib.suppress(OSError):
            status, _ = get(server.base + path, timeout=2)
            if status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f}s:\n{server.log_tail()}")


def events_command() -> list[str]:
    script = Path(sys.executable).with_name("events")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from events.cli import main; main()"]


@contextlib.contextmanager
def serving(url: str, workdir: Path, cache_seconds: float) -> Iterator[tuple[Server, Server]]:
    app_port, bare_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    env.update(
        EVENTS_DATABASE_URL=url,
        EVENTS_ENV="development",
        EVENTS_SECRET_KEY="".join(secrets.choice(string.ascii_letters) for _ in range(48)),
        EVENTS_PAGE_CACHE_SECONDS=str(cache_seconds),
        EVENTS_BASE_URL=f"http://127.0.0.1:{app_port}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    servers: list[Server] = []
    try:
        servers.append(
            start(
                "app",
                [*events_command(), "serve", "--host", "127.0.0.1", "--port", str(app_port)],
                env,
                workdir / f"app-{app_port}.log",
                app_port,
            )
        )
        servers.append(
            start(
                "bare",
                [sys.executable, "-m", "bench.bare", "--port", str(bare_port)],
                env,
                workdir / f"bare-{bare_port}.log",
                bare_port,
            )
        )
        wait_ready(servers[0], "/healthz")
        wait_ready(servers[1], "/")
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


# --------------------------------------------------------------------------- wrk


@dataclass(frozen=True)
class Result:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx responses plus socket errors
    cpu_us: float = 0.0  # server CPU (user + system) per request, in microseconds


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if not match:
        raise ValueError(f"unreadable wrk latency {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(label: str, output: str) -> Result:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    bad = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        bad += int(non2xx.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        bad += sum(int(n) for n in sockets.groups())
    return Result(
        label, float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(total.group(1)), bad
    )


def measure(
    label: str, server: Server, url: str, *, threads: int, connections: int, duration: float
) -> Result:
    """One wrk run against a settled server, with the server's CPU time per request."""
    server.settle()
    cpu_before = server.cpu_seconds()
    result = parse_wrk(label, wrk(url, threads=threads, connections=connections, duration=duration))
    cpu = server.cpu_seconds() - cpu_before
    return dataclasses.replace(result, cpu_us=cpu / max(result.requests, 1) * 1e6)


def wrk(url: str, *, threads: int, connections: int, duration: float) -> str:
    seconds = max(1, round(duration))
    argv = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    done = subprocess.run(  # bounded: wrk stops itself; the timeout is a backstop
        argv, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout


# --------------------------------------------------------------------------- the run


def machine_info() -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:
        http = "h11"
    from importlib.metadata import version

    wrk_version = subprocess.run([WRK, "-v"], capture_output=True, text=True, check=False)
    return (
        f"machine: nproc={os.cpu_count()} ({cpu or platform.machine()}), "
        f"{platform.system()} {platform.release()}\n"
        f"python {platform.python_version()}, uvicorn {version('uvicorn')} (loop={loop}, "
        f"http={http}), starlette {version('starlette')}, sqlalchemy {version('sqlalchemy')}\n"
        f"{(wrk_version.stdout or wrk_version.stderr).splitlines()[0]}"
    )


def check_urls(targets: Sequence[tuple[str, str]]) -> None:
    for label, url in targets:
        status, body = get(url)
        note = "" if status == 200 else "  <- not 200: the ratio below measures an error page"
        print(f"  {label:<22} {status}  {len(body):>7} bytes  {url}{note}")


def run_pass(
    url: str, workdir: Path, args: argparse.Namespace, cache_seconds: float
) -> tuple[list[Result], float | None]:
    load = {"threads": args.threads, "connections": args.connections, "duration": args.duration}
    with serving(url, workdir, cache_seconds) as (app, bare):
        slug = probe_slug(args.events)
        targets = [
            ("listing", f"{app.base}/events?per_page=50"),
            ("event page", f"{app.base}/events/{slug}"),
            ("api /api/v1/events", f"{app.base}/api/v1/events?per_page=50"),
        ]
        print(f"\npass: EVENTS_PAGE_CACHE_SECONDS={cache_seconds:g}")
        check_urls([("bare", f"{bare.base}/"), *targets])
        # Warm up: first requests compile templates, fill pools and the page cache.
        for _, target in [("bare", f"{bare.base}/"), *targets]:
            wrk(target, threads=args.threads, connections=args.connections, duration=args.warmup)
        # bare, the app's URLs, bare again (x rounds): the baseline is measured around the
        # app's runs, so a machine that gets busier or quieter shows up as drift.
        runs: list[Result] = []
        for _ in range(args.rounds):
            runs.append(measure("bare", bare, f"{bare.base}/", **load))
            for label, target in targets:
                runs.append(measure(label, app, target, **load))
        runs.append(measure("bare", bare, f"{bare.base}/", **load))
        results = summarise(runs, args.rounds)
        app.settle()
        freshness = check_freshness(url, app.base, slug)
    return results, freshness


def summarise(runs: Sequence[Result], rounds: int) -> list[Result]:
    """One row per URL (the median over rounds); the bare runs stay separate, as the
    first ("before") and the last ("after"), and any in between are "between" rows."""
    if rounds == 1:
        first, *middle, last = runs
        return [
            dataclasses.replace(first, label="bare (before)"),
            *middle,
            dataclasses.replace(last, label="bare (after)"),
        ]
    bare = [r for r in runs if r.label == "bare"]
    rows = [dataclasses.replace(bare[0], label="bare (before)")]
    labels = list(dict.fromkeys(r.label for r in runs if r.label != "bare"))
    for label in labels:
        mine = [r for r in runs if r.label == label]
        rows.append(
            Result(
                f"{label} (median)",
                statistics.median(r.rps for r in mine),
                statistics.median(r.p50_ms for r in mine),
                statistics.median(r.p99_ms for r in mine),
                sum(r.requests for r in mine),
                sum(r.bad for r in mine),
                statistics.median(r.cpu_us for r in mine),
            )
        )
    rows.extend(dataclasses.replace(r, label="bare (between)") for r in bare[1:-1])
    rows.append(dataclasses.replace(bare[-1], label="bare (after)"))
    return rows


def check_freshness(url: str, base: str, slug: str, limit: float = 10.0) -> float | None:
    """Seconds until the event page shows a places-left changed behind the app's back."""
    page = f"{base}/events/{slug}"
    _, before = get(page)
    if f"{PROBE_PLACES_LEFT} places left" not in before:
        return None  # the page does not show places-left in the expected words
    asyncio.run(_set_places_left(url, slug, PROBE_PLACES_LEFT - 1))
    changed = time.monotonic()
    try:
        while time.monotonic() - changed < limit:
            _, body = get(page)
            if f"{PROBE_PLACES_LEFT - 1} places left" in body:
                return time.monotonic() - changed
            time.sleep(0.02)
        return float("inf")
    finally:
        asyncio.run(_set_places_left(url, slug, PROBE_PLACES_LEFT))


def report(title: str, results: Sequence[Result], freshness: float | None) -> None:
    bare = [r for r in results if r.label.startswith("bare")]
    base_rps = sum(r.rps for r in bare) / len(bare)
    base_p50 = sum(r.p50_ms for r in bare) / len(bare)
    base_p99 = sum(r.p99_ms for r in bare) / len(bare)
    base_cpu = sum(r.cpu_us for r in bare) / len(bare)
    width = max(len(r.label) for r in results)
    print(f"\n{title}")
    header = (
        f"{'endpoint':<{width}} {'req/s':>8} {'x bare':>6} {'p50 ms':>8} {'x bare':>7} "
        f"{'p99 ms':>8} {'x bare':>7} {'CPU us/req':>10} {'bare/it':>7} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.label:<{width}} {r.rps:>8.0f} {r.rps / base_rps:>6.2f} {r.p50_ms:>8.2f} "
            f"{r.p50_ms / base_p50:>7.2f} {r.p99_ms:>8.2f} {r.p99_ms / base_p99:>7.2f} "
            f"{r.cpu_us:>10.0f} {base_cpu / r.cpu_us if r.cpu_us else 0:>7.2f} {r.bad:>6}"
        )
    drift = (max(r.rps for r in bare) - min(r.rps for r in bare)) / base_rps
    print(
        f"baseline = mean of the bare runs: {base_rps:.0f} req/s, p50 {base_p50:.2f} ms, "
        f"p99 {base_p99:.2f} ms, {base_cpu:.0f} us CPU/req (bare runs differ by {drift:.0%})"
    )
    if drift > 0.15:
        print(
            "  note: the bare runs differ by more than 15%: something else is using the CPUs. "
            "Trust the CPU columns (less sensitive to it), or re-run (--rounds 3 takes medians)."
        )
    if freshness is None:
        print("freshness: not checked (the event page does not show 'N places left')")
    elif freshness == float("inf"):
        print("freshness: a places-left change was NOT visible on the event page within 10 s")
    else:
        print(f"freshness: a places-left change made elsewhere showed after {freshness:.2f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.catalog", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--events", type=int, default=10_000, help="events in the database")
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per URL")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (1 on a 2-core machine: see README)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat the URLs this many times, interleaved"
    )
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per URL")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--cache-seconds", type=float, default=1.0, help="EVENTS_PAGE_CACHE_SECONDS"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="also run a second pass with EVENTS_PAGE_CACHE_SECONDS=0",
    )
    args = parser.parse_args(argv)
    counts = (args.connections, args.threads, args.rounds)
    if args.events < 2 or args.duration <= 0 or min(counts) < 1:
        parser.error("--events >= 2, --duration > 0, --connections, --threads, --rounds >= 1")
    if not Path(WRK).exists():
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections")

    print(machine_info())
    print(
        f"load: wrk -t{args.threads} -c{args.connections} -d{round(args.duration)}s --latency "
        f"(warm-up {round(args.warmup)}s per URL); wrk and the server share the machine's CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="events-bench-") as tmp:
        workdir = Path(tmp)
        url = prepare_database(args.database, workdir, args.events)
        passes = [args.cache_seconds] + ([0.0] if args.no_cache else [])
        tables = []
        for cache_seconds in passes:
            results, freshness = run_pass(url, workdir, args, cache_seconds)
            tables.append((cache_seconds, results, freshness))
        for cache_seconds, results, freshness in tables:
            report(
                f"{args.database}, {args.events} events, page cache {cache_seconds:g}s",
                results,
                freshness,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
