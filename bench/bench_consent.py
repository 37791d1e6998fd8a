"""The consent check in process against a dict lookup, over REST, and rebuilding the projection at scale.

Rebuild: PRIVET_BENCH_EVENTS ledger events (default 10,000,000) over 50,000
people and two purposes are generated inside PostgreSQL by one set-based
``INSERT … SELECT generate_series`` into the ledger table of a state database
made by Privet's own migrations (the people's keyed digests come from the
library, so the events are real ones); then ``ConsentService.rebuild_projection``
is timed, and the peak memory of this process is recorded around it (the ledger
never passes through Python).

Check: PRIVET_BENCH_CHECK_EVENTS events (default 1,000,000) are generated the
same way inside a SQLite state database (the embedded default); the in-process
check runs over a warm cache (the steady state of an app asking before every
send) and is timed against a plain dict lookup of the same keys in the same run;
then ``privet serve`` runs in its own process over that state and is asked over
loopback HTTP, by one client and by four concurrent ones, each client a process
of its own sending pre-built requests on a keep-alive connection (so the load
generator costs little CPU and no client waits on another's interpreter lock);
the server's CPU time per request is read from /proc, a figure that holds up
when other work shares the machine, unlike the latencies.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

from privet.consent import ConsentService
from privet.consent.models import ConsentEvent, ConsentState
from privet.datamap import parse_map
from privet.identity import Identity
from privet.state import StateDB, open_state

ADMIN = os.environ.get("PRIVET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB = "privet_bench_consent"
PEOPLE = 50_000
MAP = """
version: 1
stores: {}
purposes:
  marketing_email: {notices: [{version: "1"}]}
  product_news: {notices: [{version: "1"}]}
"""
# Event i (1..n) is about person (i * 2654435761) mod PEOPLE (a permutation, so every person gets
# events), for purpose (i div PEOPLE) mod 2, granted for 6 of 10; the same in both dialects.
GENERATE = {
    "postgresql": """
        INSERT INTO privet_consent_events (subject, tenant, purpose, granted, notice_version, source, at)
        SELECT p.digest, '',
               CASE WHEN (g.i / :people) % 2 = 0 THEN 'marketing_email' ELSE 'product_news' END,
               (g.i * 40503) % 10 < 6, '1', 'import',
               timestamptz '2024-01-01 00:00:00+00' + g.i * interval '1 second'
        FROM generate_series(1::bigint, :n) AS g(i)
        JOIN bench_people p ON p.n = (g.i * 2654435761) % :people
        ORDER BY g.i""",
    "sqlite": """
        INSERT INTO privet_consent_events (subject, tenant, purpose, granted, notice_version, source, at)
        WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :n)
        SELECT p.digest, '',
               CASE WHEN (g.i / :people) % 2 = 0 THEN 'marketing_email' ELSE 'product_news' END,
               (g.i * 40503) % 10 < 6, '1', 'import',
               datetime('2024-01-01 00:00:00', '+' || g.i || ' seconds')
        FROM g JOIN bench_people p ON p.n = (g.i * 2654435761) % :people
        ORDER BY g.i""",
}


def _generate(db: StateDB, svc: ConsentService, ids: list[Identity], n: int) -> float:
    """The ledger filled set-based inside the database; seconds taken."""
    t = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_people"))
        conn.execute(sa.text("CREATE TABLE bench_people (n INTEGER PRIMARY KEY, digest VARCHAR(64))"))
        conn.execute(
            sa.text("INSERT INTO bench_people (n, digest) VALUES (:n, :digest)"),
            [{"n": i, "digest": svc.digest(who)} for i, who in enumerate(ids)],
        )
        conn.execute(sa.text(GENERATE[db.engine.dialect.name]), {"n": n, "people": len(ids)})
        conn.execute(sa.text("DROP TABLE bench_people"))
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE) privet_consent_events"))
    else:
        with db.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    return time.perf_counter() - t


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rebuild_at_scale(n_events: int, ids: list[Identity]) -> dict[str, Any]:
    """The projection rebuilt from ``n_events`` ledger events in a PostgreSQL state database."""
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB}"))
    url = sa.engine.make_url(ADMIN).set(database=DB).render_as_string(hide_password=False)
    db = open_state(url)  # the schema of Privet's migrations
    try:
        svc = ConsentService(db, parse_map(MAP), bytes(range(32)), cache_seconds=3600)
        load_s = _generate(db, svc, ids, n_events)
        rss_before = _peak_rss_mb()
        t = time.perf_counter()
        replayed = svc.rebuild_projection()
        rebuild_s = time.perf_counter() - t
        rss_after = _peak_rss_mb()
        with db.session() as s:
            keys = s.execute(sa.select(sa.func.count()).select_from(ConsentState)).scalar_one()
            expected = s.execute(
                sa.select(sa.func.count()).select_from(
                    sa.select(ConsentEvent.subject, ConsentEvent.tenant, ConsentEvent.purpose)
                    .distinct()
                    .subquery()
                )
            ).scalar_one()
        assert replayed == n_events and keys == expected, (replayed, keys, expected)
        sample = random.Random(5).sample(ids, 3)
        for who in sample:  # spot check: the projection holds each key's newest event
            for purpose in ("marketing_email", "product_news"):
                with db.session() as s:
                    newest = s.execute(
                        sa.select(ConsentEvent.granted)
                        .where(ConsentEvent.subject == svc.digest(who), ConsentEvent.purpose == purpose)
                        .order_by(ConsentEvent.id.desc())
                        .limit(1)
                    ).scalar_one()
                assert svc.check(who, purpose).allowed is newest
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        admin.dispose()
    return {
        "events": n_events,
        "keys": keys,
        "generate_s": round(load_s, 2),
        "rebuild_s": round(rebuild_s, 2),
        "events_per_s": round(n_events / rebuild_s),
        "peak_rss_mb_before": round(rss_before),
        "peak_rss_mb_after": round(rss_after),
    }


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[bytes, bytes]:
    """One HTTP/1.1 response off a keep-alive socket: (status line, body); ``buf`` keeps the rest."""
    while (end := buf.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buf += chunk
    head = bytes(buf[:end]).lower()
    length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
    while len(buf) < end + 4 + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buf += chunk
    status = bytes(buf[: buf.index(b"\r\n")])
    body = bytes(buf[end + 4 : end + 4 + length])
    del buf[: end + 4 + length]
    return status, body


WARM = 50  # untimed requests per client before the timed ones: its connection and the server warm


def _client(port: int, requests: list[bytes], ready: Any, start: Any, together: Any, out: Any) -> None:
    """One client in its own process: one keep-alive connection, one request at a time.

    Requests are pre-built bytes and responses are read by Content-Length, so the client spends
    microseconds per request and the measured time is the server's; each latency is taken around
    one send and its complete response. Bodies are checked after the timed loop. The connection is
    opened only once every client has started (an idle one would be closed by the server)."""
    ready.put(True)
    start.wait()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    for request in requests[:WARM]:
        sock.sendall(request)
        _read_response(sock, buf)
    together.wait()
    latencies: list[float] = []
    answers: list[tuple[bytes, bytes]] = []
    began = time.perf_counter()
    for request in requests:
        t = time.perf_counter()
        sock.sendall(request)
        answers.append(_read_response(sock, buf))
        latencies.append(time.perf_counter() - t)
    ended = time.perf_counter()
    sock.close()
    bad = [
        a for a in answers if not a[0].startswith(b"HTTP/1.1 200") or not isinstance(json.loads(a[1]), dict)
    ]
    out.put((latencies, began, ended, len(bad), bad[:1]))


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load(port: int, parts: list[list[bytes]], pid: int) -> dict[str, Any]:
    """Each part asked by its own client process, all starting together; latencies and server CPU."""
    ctx = multiprocessing.get_context("spawn")
    ready, start, together, out = ctx.Queue(), ctx.Event(), ctx.Barrier(len(parts)), ctx.Queue()
    procs = [ctx.Process(target=_client, args=(port, part, ready, start, together, out)) for part in parts]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    cpu = _cpu_seconds(pid)
    start.set()
    results: list[Any] = []
    while len(results) < len(procs):
        try:
            results.append(out.get(timeout=1))
        except queue.Empty:
            if any(p.exitcode for p in procs):
                raise RuntimeError("a client process failed (its traceback is above)") from None
    cpu = _cpu_seconds(pid) - cpu  # the warm-up requests' share included: divided by all requests
    for p in procs:
        p.join(timeout=30)
    bad = sum(r[3] for r in results)
    assert not bad, (bad, [r[4] for r in results if r[4]])
    latencies = sorted(x for r in results for x in r[0])
    wall = max(r[2] for r in results) - min(r[1] for r in results)
    return {
        "requests": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "per_s": round(len(latencies) / wall),
        "server_cpu_us_per_request": round(cpu / (len(latencies) + WARM * len(parts)) * 1e6),
    }


def _rest(home: Path, sample: list[tuple[Identity, str]], clients: int = 4) -> dict[str, Any]:
    """``privet serve`` in its own process over the same state, asked over loopback by one client,
    then by ``clients`` concurrent ones, each client a process of its own (as threads in one
    process, httpx clients share one interpreter lock and measured their own queueing: 4 thread
    clients saw p50 18 ms at 200 requests/s while the server was mostly idle)."""
    (home / "privet.yaml").write_text(MAP)
    (home / "secret.key").write_text(bytes(range(32)).hex() + "\n")
    env = {
        **os.environ,
        "PRIVET_HOME": str(home),
        "PRIVET_MAP": str(home / "privet.yaml"),
        "PRIVET_STATE_URL": f"sqlite:///{home / 'state.db'}",
        "PRIVET_SECRET_FILE": str(home / "secret.key"),
    }
    key = subprocess.run(
        [sys.executable, "-m", "privet.cli.main", "keys", "create", "--operator", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = json.loads(key.stdout)["key"]
    with socket.socket() as probe:  # a free port: a server left over on a fixed one would answer instead
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "privet.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    host = f"Host: 127.0.0.1:{port}\r\n"
    checks = [
        (
            f"GET /v1/consents/check?{urlencode({'subject': f'email:{who.value}', 'purpose': purpose})} "
            f"HTTP/1.1\r\n{host}Authorization: Bearer {token}\r\n\r\n"
        ).encode()
        for who, purpose in sample
    ]
    healthz = [f"GET /healthz HTTP/1.1\r\n{host}\r\n".encode()] * len(sample)
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        # Every answer in the server's cache first: the steady state of an app asking before each send.
        _load(port, [checks], server.pid)
        # Latency: one client, one request at a time (what a sender waiting on the answer sees).
        single = _load(port, [checks], server.pid)
        # A reference on the same connection: /healthz (no auth, no consent; a sync route, so a thread hop).
        floor = _load(port, [healthz], server.pid)
        # Under load: concurrent clients, each with its share of the sample (2 cores shared with them).
        concurrent = _load(port, [checks[i::clients] for i in range(clients)], server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "requests": single["requests"],
        "p50_ms": single["p50_ms"],
        "p99_ms": single["p99_ms"],
        "max_ms": single["max_ms"],
        "server_cpu_us": single["server_cpu_us_per_request"],
        "healthz_p50_ms": floor["p50_ms"],
        "healthz_p99_ms": floor["p99_ms"],
        "concurrency": clients,
        "concurrent_p50_ms": concurrent["p50_ms"],
        "concurrent_p99_ms": concurrent["p99_ms"],
        "concurrent_max_ms": concurrent["max_ms"],
        "concurrent_server_cpu_us": concurrent["server_cpu_us_per_request"],
        "per_s": concurrent["per_s"],
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def run() -> dict[str, Any]:
    n_events = int(os.environ.get("PRIVET_BENCH_EVENTS", "10000000"))
    n_check_events = int(os.environ.get("PRIVET_BENCH_CHECK_EVENTS", "1000000"))
    people = PEOPLE
    ids = [Identity("email", f"p{i}@example.com") for i in range(people)]
    purposes = ["marketing_email", "product_news"]
    scale = _rebuild_at_scale(n_events, ids)

    home = Path(tempfile.mkdtemp())
    db = open_state(f"sqlite:///{home / 'state.db'}")
    svc = ConsentService(db, parse_map(MAP), bytes(range(32)), cache_seconds=3600)
    rng = random.Random(3)
    load_s = _generate(db, svc, ids, n_check_events)
    t = time.perf_counter()
    svc.rebuild_projection()
    sqlite_rebuild_s = time.perf_counter() - t
    sample = [(ids[rng.randrange(people)], purposes[rng.randrange(2)]) for _ in range(20_000)]
    for who, purpose in sample:  # warm the cache, as a running app would
        svc.check(who, purpose)
    loops = 10
    t = time.perf_counter()
    for _ in range(loops):
        for who, purpose in sample:
            svc.check(who, purpose)
    check_rate = loops * len(sample) / (time.perf_counter() - t)
    plain = {(who, purpose): True for who, purpose in sample}
    t = time.perf_counter()
    for _ in range(loops):
        for who, purpose in sample:
            plain.get((who, purpose))
    dict_rate = loops * len(sample) / (time.perf_counter() - t)
    svc.cache_seconds = 0
    t = time.perf_counter()
    for who, purpose in sample[:2000]:
        svc.check(who, purpose)
    cold_rate = 2000 / (time.perf_counter() - t)
    db.dispose()
    try:
        rest = _rest(home, sample[:2000])
    finally:
        shutil.rmtree(home, ignore_errors=True)
    out = {
        "name": "consent",
        "rebuild": scale,
        "people": people,
        "check_events": n_check_events,
        "check_per_s": round(check_rate),
        "dict_per_s": round(dict_rate),
        "ratio_to_dict": round(check_rate / dict_rate, 3),
        "uncached_check_per_s": round(cold_rate),
        "sqlite_rebuild_s": round(sqlite_rebuild_s, 2),
        "sqlite_generate_s": round(load_s, 2),
        "rest": rest,
    }
    out["summary"] = (
        f"projection rebuilt from {scale['events']:,} ledger events ({scale['keys']:,} keys) in PostgreSQL "
        f"state in {scale['rebuild_s']:.2f} s ({scale['events_per_s']:,} events/s; one INSERT … SELECT; "
        f"peak memory of the bench process {scale['peak_rss_mb_before']} MB before, "
        f"{scale['peak_rss_mb_after']} MB after); the events were generated in {scale['generate_s']:.0f} s\n"
        f"  the same in SQLite state from {n_check_events:,} events: {sqlite_rebuild_s:.2f} s\n"
        f"in-process check (warm cache): {check_rate:,.0f}/s vs dict lookup {dict_rate:,.0f}/s "
        f"(ratio {out['ratio_to_dict']}; goal >= 200,000/s)\n"
        f"uncached check (reads the projection and the suppression list in SQLite): {cold_rate:,.0f}/s\n"
        f"REST GET /v1/consents/check on loopback (uvicorn, own process; clients in their own processes), "
        f"{rest['requests']} requests one at a time: p50 {rest['p50_ms']} ms, p99 {rest['p99_ms']} ms "
        f"(goal p99 < 5 ms), server CPU {rest['server_cpu_us']} us/request\n"
        f"  reference GET /healthz, same client: p50 {rest['healthz_p50_ms']} ms, p99 {rest['healthz_p99_ms']} ms\n"
        f"  {rest['concurrency']} concurrent clients: p50 {rest['concurrent_p50_ms']} ms, "
        f"p99 {rest['concurrent_p99_ms']} ms, max {rest['concurrent_max_ms']} ms, {rest['per_s']:,.0f} requests/s, "
        f"server CPU {rest['concurrent_server_cpu_us']} us/request (load average {rest['load_average_1m']})"
    )
    return out
