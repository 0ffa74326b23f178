"""Calendar benchmark: feed build time, and a feed hit and a 304 against a bare endpoint.

    .venv/bin/python -m bench.calendar [--events 10000] [--duration 10] [--connections 50]
                                       [--database sqlite|postgres]

Part 1 (in process, no server): time to serialise the whole feed with 1,000 and 10,000
events from nothing ("cold"), and to rebuild it after one event changed, when the other
VEVENTs are kept ("warm", what the app does).

Part 2 (servers): builds the catalogue benchmark's data set (``bench/catalog.py``, whose
helpers this reuses), serves the app and the bare endpoint, times the first request for
``/calendar.ics`` (a build in a worker thread), then loads with wrk: the bare endpoint, a
warm feed hit, and a conditional request answered ``304``; ratios are to the bare endpoint
(the mean of a run before and after the app's).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.catalog import (
    WRK,
    Result,
    Server,
    machine_info,
    parse_wrk,
    prepare_database,
    serving,
    wrk,
)
from events.calendar import builders
from events.calendar.builders import EventView

PAGE = "https://events.example.org/events/"


def synthetic_events(n: int) -> list[EventView]:
    start = dt.datetime(2026, 1, 5, 17, 0, tzinfo=dt.UTC)
    return [
        EventView(
            uid=f"bench-{i}@events",
            slug=f"bench-event-{i}",
            title=f"Workload and wellbeing briefing {i}",
            summary="A practical session for members, with time for questions.",
            description="Join colleagues for a practical session.\n\n- What the law says\n"
            "- How to raise it with your school\n\nBring your questions.",
            starts_at=start + dt.timedelta(hours=7 * i),
            ends_at=start + dt.timedelta(hours=7 * i + 1),
            timezone="Europe/London",
            all_day=False,
            venue_name="" if i % 2 else "Union office",
            venue_address="",
            town="" if i % 2 else "Leeds",
            postcode="" if i % 2 else "LS1 5DL",
            organiser_name="Events team",
            organiser_email="events@example.org",
            ical_sequence=0,
            updated_at=start,
            cancelled=i % 50 == 0,
            online=bool(i % 2),
        )
        for i in range(n)
    ]


def build_times(n: int) -> tuple[float, float, int]:
    """(cold seconds, warm seconds after one change, feed bytes) for ``n`` events."""
    events = synthetic_events(n)
    started = time.perf_counter()
    parts = [(builders.vevent(e, page_url=PAGE + e.slug), builders.uses_zone(e)) for e in events]
    body = builders.feed("Union events", parts)
    cold = time.perf_counter() - started
    changed = dataclasses.replace(events[n // 2], title="Moved", ical_sequence=1)
    started = time.perf_counter()
    parts[n // 2] = (builders.vevent(changed, page_url=PAGE + changed.slug), "Europe/London")
    builders.feed("Union events", parts)
    warm = time.perf_counter() - started
    return cold, warm, len(body)


def wrk_with(url: str, header: str, *, threads: int, connections: int, duration: float) -> str:
    seconds = max(1, round(duration))
    argv = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    argv += ["-H", header, url]
    done = subprocess.run(  # bounded: wrk stops itself; the timeout is a backstop
        argv, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout


def measure(
    label: str, server: Server, url: str, header: str | None, load: dict[str, float]
) -> Result:
    server.settle()
    cpu_before = server.cpu_seconds()
    threads, connections = int(load["threads"]), int(load["connections"])
    duration = load["duration"]
    if header is None:
        output = wrk(url, threads=threads, connections=connections, duration=duration)
    else:
        output = wrk_with(url, header, threads=threads, connections=connections, duration=duration)
    result = parse_wrk(label, output)
    cpu = server.cpu_seconds() - cpu_before
    return dataclasses.replace(result, cpu_us=cpu / max(result.requests, 1) * 1e6)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), b""


def serve_and_load(url: str, workdir: Path, args: argparse.Namespace) -> list[Result]:
    load = {"threads": args.threads, "connections": args.connections, "duration": args.duration}
    with serving(url, workdir, args.cache_seconds) as (app, bare):
        feed = f"{app.base}/calendar.ics"
        started = time.perf_counter()
        with stall_probe(f"{app.base}/healthz") as stalls:
            status, headers, body = fetch(feed)
        first = time.perf_counter() - started
        etag = headers.get("etag", "")
        started = time.perf_counter()
        fetch(feed)
        second = time.perf_counter() - started
        n_events = body.count(b"BEGIN:VEVENT")
        print(
            f"\n/calendar.ics: {status}, {len(body):,} bytes, {n_events} events; first request "
            f"(build in a worker thread) {first:.2f} s, second {second * 1000:.1f} ms"
        )
        if stalls:
            print(
                f"during the first build, /healthz answered {len(stalls)} times: slowest "
                f"{max(stalls) * 1000:.0f} ms, median {statistics.median(stalls) * 1000:.1f} ms"
            )
        check, _, _ = fetch(feed, {"if-none-match": etag})
        print(f"conditional request with its ETag: {check}")
        _, zipped_headers, zipped = fetch(feed, {"accept-encoding": "gzip"})
        print(
            f"gzip: {len(zipped):,} bytes (content-encoding: "
            f"{ {k.lower(): v for k, v in zipped_headers.items()}.get('content-encoding') }), "
            f"{len(zipped) / max(len(body), 1):.1%} of the plain feed"
        )
        for target, header in [
            (f"{bare.base}/", None),
            (feed, None),
            (feed, "Accept-Encoding: gzip"),
            (feed, f"If-None-Match: {etag}"),
        ]:
            output = (
                wrk(
                    target, threads=args.threads, connections=args.connections, duration=args.warmup
                )
                if header is None
                else wrk_with(
                    target,
                    header,
                    threads=args.threads,
                    connections=args.connections,
                    duration=args.warmup,
                )
            )
            del output
        return [
            measure("bare (before)", bare, f"{bare.base}/", None, load),
            measure("feed hit (200)", app, feed, None, load),
            measure("feed hit, gzip", app, feed, "Accept-Encoding: gzip", load),
            measure("feed 304", app, feed, f"If-None-Match: {etag}", load),
            measure("bare (after)", bare, f"{bare.base}/", None, load),
        ]


@contextlib.contextmanager
def stall_probe(url: str) -> Iterator[list[float]]:
    """Poll ``url`` from a thread while the block runs: how long other requests wait while
    a feed is built (a build on the event loop would show as one very slow answer)."""
    timings: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            fetch(url)
            timings.append(time.perf_counter() - started)
            stop.wait(0.01)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield timings
    finally:
        stop.set()
        thread.join(timeout=130)


def report(results: Sequence[Result]) -> None:
    bare = [r for r in results if r.label.startswith("bare")]
    baseline = statistics.mean(r.rps for r in bare)
    bare_cpu = statistics.mean(r.cpu_us for r in bare)
    print(
        f"\n{'URL':<18} {'req/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'CPU us/req':>10} {'bare/it':>7} {'bad':>5}"
    )
    for r in results:
        print(
            f"{r.label:<18} {r.rps:>9.0f} {r.rps / baseline:>7.2f} {r.p50_ms:>8.2f} "
            f"{r.p99_ms:>8.2f} {r.cpu_us:>10.0f} {bare_cpu / max(r.cpu_us, 1e-9):>7.2f} {r.bad:>5}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.calendar", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--events", type=int, default=10_000, help="events in the database")
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per URL")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per URL")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cache-seconds", type=float, default=1.0)
    parser.add_argument("--build-only", action="store_true", help="part 1 only (no servers)")
    args = parser.parse_args(argv)

    print(machine_info())
    print("\nfeed build time (in process, icalendar):")
    for n in (1_000, 10_000):
        cold, warm, size = build_times(n)
        print(
            f"  {n:>6} events: cold {cold:.2f} s, warm after one change {warm * 1000:.0f} ms "
            f"({size:,} bytes)"
        )
    if args.build_only:
        return 0
    if not Path(WRK).exists():
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    print(
        f"\nload: wrk -t{args.threads} -c{args.connections} -d{round(args.duration)}s --latency "
        f"(warm-up {round(args.warmup)}s per URL); wrk and the server share the machine's CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="events-bench-") as tmp:
        workdir = Path(tmp)
        url = prepare_database(args.database, workdir, args.events)
        report(serve_and_load(url, workdir, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
