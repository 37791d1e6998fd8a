"""The service under load: intake latency of POST /v1/requests, and requests completed per minute.

``privet serve`` runs in its own process on loopback with Privet's state on PostgreSQL
and the demo SaaS database (SQLite) as the store. Intake: four client processes file
access requests as fast as they are answered; the reference is GET /healthz under
the same load (the floor of the HTTP stack). End to end: PRIVET_BENCH_REQUESTS access
requests (default 60) are filed, verified with the mailed code, approved and executed,
once with the in-process worker and once with two Celery workers on Redis; the
reference is the library's ``access`` called in a loop for the same subjects (the work
itself, without the service).
"""

from __future__ import annotations

import email
import json
import multiprocessing
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from privet import access
from privet.datamap import load_map
from privet.identity import Identity
from privet.settings import Settings

ADMIN = os.environ.get("PRIVET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("PRIVET_TEST_REDIS", "redis://127.0.0.1:6379/0")
PRIVET = [sys.executable, "-m", "privet.cli.main"]


def _fresh_pg(name: str) -> str:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return sa.engine.make_url(ADMIN).set(database=name).render_as_string(hide_password=False)


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(env: dict[str, str], workers: int = 0) -> Iterator[str]:
    port = _port()
    procs = [
        subprocess.Popen(
            [*PRIVET, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    for _ in range(workers):
        procs.append(
            subprocess.Popen(
                [*PRIVET, "worker", "--concurrency", "1"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def _client(
    base: str, headers: dict[str, str], method: str, path: str, body: Any, n: int, stop: float, out: Any
) -> None:
    """One client in its own process (no interpreter lock shared with the others): one keep-alive
    connection, one request at a time until ``stop``; ``{i}`` in the body is a per-request number."""
    lat: list[float] = []
    i = 0
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        began = time.time()
        while time.time() < stop:
            payload = json.loads(json.dumps(body).replace("{i}", str(n * 1_000_000 + i))) if body else None
            t = time.perf_counter()
            client.request(method, path, json=payload).raise_for_status()
            lat.append((time.perf_counter() - t) * 1000)
            i += 1
    out.put((lat, began, time.time()))


def _load(
    base: str, headers: dict[str, str], method: str, path: str, body: Any, seconds: float, clients: int
) -> dict[str, Any]:
    """``clients`` processes calling as fast as answered for ``seconds``; latencies in ms."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    stop = time.time() + 3 + seconds  # the clients start (spawn) within the first seconds
    procs = [
        ctx.Process(target=_client, args=(base, headers, method, path, body, n, stop, out))
        for n in range(clients)
    ]
    for p in procs:
        p.start()
    lat: list[float] = []
    spans: list[tuple[float, float]] = []
    for _ in procs:
        mine, began, ended = out.get(timeout=seconds + 120)
        lat.extend(mine)
        spans.append((began, ended))
    for p in procs:
        p.join(timeout=30)
    q = statistics.quantiles(lat, n=100)
    return {
        "requests": len(lat),
        "per_s": round(len(lat) / (max(e for _b, e in spans) - min(b for b, _e in spans))),
        "p50_ms": round(q[49], 2),
        "p99_ms": round(q[98], 2),
    }


def _codes(outbox: Path, seen: dict[str, str]) -> dict[str, str]:
    """The newest code mailed to each address (the outbox holds one .eml per mail)."""
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime):
        if path.name in seen:
            continue
        msg = email.message_from_bytes(path.read_bytes())
        match = re.search(r"^(\d{6})\r?$", str(msg.get_payload()), flags=re.M)
        seen[path.name] = ""
        if match:
            seen[str(msg["To"]).lower()] = match.group(1)
    return seen


def _end_to_end(base: str, headers: dict[str, str], outbox: Path, emails: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        ids = {}
        for e in emails:
            r = client.post("/v1/requests", json={"type": "access", "subject": {"email": e}})
            r.raise_for_status()
            ids[e] = r.json()["id"]
        seen: dict[str, str] = {}
        _codes(outbox, seen)
        for e, rid in ids.items():
            client.post(f"/v1/requests/{rid}/verify", json={"code": seen[e.lower()]}).raise_for_status()
            client.post(f"/v1/requests/{rid}/approve").raise_for_status()
        pending = set(ids.values())
        deadline = time.monotonic() + 600
        while pending and time.monotonic() < deadline:
            for rid in list(pending):
                status = client.get(f"/v1/requests/{rid}").json()["status"]
                if status in ("completed", "failed"):
                    if status == "failed":
                        raise RuntimeError(f"request {rid} failed")
                    pending.discard(rid)
            time.sleep(0.2)
        if pending:
            raise RuntimeError(f"{len(pending)} requests did not complete in 10 minutes")
    wall = time.perf_counter() - started
    return {"requests": len(emails), "seconds": round(wall, 2), "per_minute": round(len(emails) / wall * 60)}


def run() -> dict[str, Any]:
    n = int(os.environ.get("PRIVET_BENCH_REQUESTS", "60"))
    work = Path(tempfile.mkdtemp(prefix="privet-bench-service-"))
    home = work / ".privet"
    subprocess.run(
        [*PRIVET, "demo", "--no-serve", "--users", "500", "--dir", str(work), "--json"],
        env={**os.environ, "PRIVET_HOME": str(home)},
        cwd=work,
        check=True,
        capture_output=True,
    )
    with sqlite3.connect(work / "demo.db") as db:
        emails = [r[0] for r in db.execute("SELECT email FROM users ORDER BY id LIMIT ?", (n,))]
    env = {
        **os.environ,
        "PRIVET_HOME": str(home),
        "PRIVET_MAP": str(work / "privet.yaml"),
        "PRIVET_STATE_URL": _fresh_pg("privet_bench_service"),
    }
    env.pop("PRIVET_SMTP_URL", None)  # codes go to the outbox, where the bench reads them
    key = subprocess.run(
        [*PRIVET, "keys", "create", "--operator", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    headers = {"Authorization": f"Bearer {json.loads(key.stdout)['key']}"}
    out: dict[str, Any] = {"name": "service", "subjects": n}

    with _serve(env) as base:
        out["healthz"] = _load(base, headers, "GET", "/healthz", None, 5, 4)
        intake = {"type": "access", "subject": {"email": "load{i}@example.com"}}
        out["intake"] = _load(base, headers, "POST", "/v1/requests", intake, 10, 4)
    for p in (home / "outbox").glob("*.eml"):
        p.unlink()
    with _serve(env) as base:
        out["in_process"] = _end_to_end(base, headers, home / "outbox", emails)
    for p in (home / "outbox").glob("*.eml"):
        p.unlink()
    celery_env = {**env, "PRIVET_BROKER_URL": REDIS, "PRIVET_JOB_QUEUE": f"privet-bench-{os.getpid()}"}
    with _serve(celery_env, workers=2) as base:
        out["celery_2_workers"] = _end_to_end(base, headers, home / "outbox", emails)

    settings = Settings(home=home, map=work / "privet.yaml", state_url=env["PRIVET_STATE_URL"])
    dm = load_map(settings.map)
    t = time.perf_counter()
    for i, e in enumerate(emails):
        access(dm, settings, Identity("email", e.lower()), out=work / f"ref{i}.zip")
    ref = time.perf_counter() - t
    out["library_loop"] = {"requests": n, "seconds": round(ref, 2), "per_minute": round(n / ref * 60)}
    out["ratio_in_process"] = round(out["in_process"]["per_minute"] / out["library_loop"]["per_minute"], 2)
    out["ratio_celery"] = round(out["celery_2_workers"]["per_minute"] / out["library_loop"]["per_minute"], 2)
    h, it = out["healthz"], out["intake"]
    out["summary"] = (
        f"intake POST /v1/requests, 4 clients on loopback, state on PostgreSQL: p50 {it['p50_ms']} ms, "
        f"p99 {it['p99_ms']} ms, {it['per_s']}/s (GET /healthz same load: p50 {h['p50_ms']} ms, "
        f"p99 {h['p99_ms']} ms)\n"
        f"end to end ({n} access requests filed, verified, approved, exported): in-process worker "
        f"{out['in_process']['per_minute']}/min, 2 Celery workers on Redis "
        f"{out['celery_2_workers']['per_minute']}/min; the library's access in a loop "
        f"{out['library_loop']['per_minute']}/min (ratios {out['ratio_in_process']} and {out['ratio_celery']})"
    )
    return out
