"""Celery workers (``privet worker``) against the real Redis and RabbitMQ of this machine.

A request filed through the API's service is executed by a worker in another process;
a worker killed in the middle of an erasure is replaced and the erasure finishes once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.datamap import load_map, write_map
from privet.errors import ConfigError
from privet.service import RequestService, add_tenant, authenticate, create_key
from privet.service.celery_app import make_celery
from privet.service.jobs import register_jobs
from privet.service.models import RequestEvent
from privet.service.runner import CeleryRunner
from privet.settings import Settings
from privet.state import open_state
from tests.requests.shop import build_shop, shop_map
from tests.support.databases import broker_url

PRIVET = Path(sys.executable).parent / "privet"


@pytest.fixture(params=("redis", "amqp"))
def broker(request: pytest.FixtureRequest) -> str:
    return broker_url(request.param)


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``privet worker`` in its own process group, killed with SIGKILL at the end."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(PRIVET), "worker", "--concurrency", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        kill(proc)


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_for(check: Callable[[], bool], what: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


class Setup:
    def __init__(self, tmp_path: Path, broker: str, shop_url: str) -> None:
        self.tmp = tmp_path
        rec = tmp_path / "rec"
        build_shop(shop_url, rec)
        write_map(shop_map(shop_url, rec), tmp_path / "privet.yaml")
        self.env = {
            **os.environ,
            "PRIVET_HOME": str(tmp_path / ".privet"),
            "PRIVET_MAP": str(tmp_path / "privet.yaml"),
            "PRIVET_BROKER_URL": broker,
            "PRIVET_JOB_QUEUE": f"privet-test-{uuid.uuid4().hex[:10]}",
            "PRIVET_JOB_VISIBILITY_SECONDS": "2",
        }
        self.settings = Settings(
            home=tmp_path / ".privet",
            map=tmp_path / "privet.yaml",
            broker_url=broker,
            job_queue=self.env["PRIVET_JOB_QUEUE"],
            job_visibility_seconds=2,
        )
        self.settings.ensure_home()
        self.state = open_state(self.settings.resolved_state_url)
        add_tenant(self.state, "1", name="Shop One", auto_approve="access,erasure")
        self.principal = authenticate(self.state, create_key(self.state, tenant="1"))
        self.runner = CeleryRunner(self.settings)
        self.service = RequestService(self.settings, load_map(self.settings.map), self.state, self.runner)
        register_jobs(self.runner, self.service)
        self.log = tmp_path / "worker.log"

    def file(self, rtype: str, email: str) -> str:
        rid = str(self.service.create(self.principal, rtype, {"email": email})["id"])
        self.service.verify(rid, self._code(email))
        return rid

    def _code(self, email: str) -> str:
        for path in sorted(self.settings.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            msg = message_from_bytes(path.read_bytes())
            if msg["To"] == email:
                match = re.search(r"^(\d{6})\r?$", str(msg.get_payload()), flags=re.M)
                assert match
                return match.group(1)
        raise AssertionError(f"no code was mailed to {email}")

    def status(self, rid: str) -> str:
        return str(self.service.get(self.principal, rid)["status"])

    def events(self, rid: str) -> list[str]:
        with self.state.session() as s:
            stmt = sa.select(RequestEvent.status).where(RequestEvent.request_id == rid)
            return list(s.execute(stmt.order_by(RequestEvent.id)).scalars())

    def close(self) -> None:
        self.runner.close()
        self.state.dispose()


def test_when_a_broker_is_set_then_a_celery_worker_executes_the_request(broker: str, tmp_path: Path) -> None:
    setup = Setup(tmp_path, broker, f"sqlite:///{tmp_path / 'shop.db'}")
    try:
        with worker(setup.env, setup.log):
            rid = setup.file("access", "anna@example.com")
            wait_for(lambda: setup.status(rid) == "completed", "the access request to complete", setup.log)
        export = setup.service.export(rid, principal=setup.principal)
        assert export[:2] == b"PK"  # a zip, decrypted from the store
        assert setup.events(rid).count("completed") == 1
    finally:
        setup.close()


def test_when_the_worker_is_killed_mid_erasure_then_a_new_worker_finishes_it_once(
    broker: str, pg_url: str, tmp_path: Path
) -> None:
    setup = Setup(tmp_path, broker, pg_url)
    shop = sa.create_engine(pg_url)
    with shop.connect() as conn:
        invoices_before = conn.execute(sa.text("SELECT count(*) FROM invoices")).scalar_one()
    try:
        # The shop's app holds a lock the erasure needs, so the first worker is caught mid-job.
        blocker = shop.connect()
        tx = blocker.begin()
        blocker.execute(sa.text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"))
        with worker(setup.env, setup.log) as first:
            rid = setup.file("erasure", "anna@example.com")
            wait_for(lambda: setup.status(rid) == "running", "the first worker to start the job", setup.log)
            time.sleep(0.5)
            kill(first)
        assert setup.status(rid) == "running"
        with worker(setup.env, setup.log):
            time.sleep(1)
            tx.rollback()  # the app lets go; the job, given back by the broker, can finish
            blocker.close()
            wait_for(lambda: setup.status(rid) == "completed", "the new worker to finish the job", setup.log)
        events = setup.events(rid)
        assert events.count("running") >= 2 and events.count("completed") == 1, events
        result = setup.service.get(setup.principal, rid)["result"]
        assert result["verified"] is True, json.dumps(result)
        with shop.connect() as conn:
            users = [e.lower() for e in conn.execute(sa.text("SELECT email FROM users")).scalars()]
            invoices = conn.execute(sa.text("SELECT count(*) FROM invoices")).scalar_one()
        assert "anna@example.com" not in users and "bob@example.com" in users
        assert invoices == invoices_before  # kept under the accounting hold
    finally:
        shop.dispose()
        setup.close()


def test_when_the_broker_url_is_not_redis_or_amqp_then_the_error_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither redis:// nor amqp://"):
        make_celery(Settings(home=tmp_path, broker_url="kafka://127.0.0.1:9092"))
    with pytest.raises(ConfigError, match="PRIVET_BROKER_URL is not set"):
        make_celery(Settings(home=tmp_path))


def test_two_workers_on_one_host_both_serve_the_queue(broker: str, tmp_path: Path) -> None:
    # Celery's default node name is the host's; on RabbitMQ a second worker of that name cannot
    # open its control queue and stops. Each `privet worker` names itself after its process.
    setup = Setup(tmp_path, broker, f"sqlite:///{tmp_path / 'shop.db'}")
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    try:
        with worker(setup.env, logs[0]) as first, worker(setup.env, logs[1]) as second:
            for log in logs:
                wait_for(lambda log=log: b" ready." in log.read_bytes(), f"{log.name} to be ready", log)
            rids = [setup.file("access", "anna@example.com"), setup.file("access", "bob@example.com")]

            def done() -> bool:
                return all(setup.status(rid) == "completed" for rid in rids)

            wait_for(done, "both requests to complete", logs[1])
            time.sleep(1)
            assert first.poll() is None and second.poll() is None, logs[1].read_text()[-3000:]
        names = {re.search(rb"(privet-\d+@\S+) ready\.", log.read_bytes()) for log in logs}
        assert None not in names and len({m.group(1) for m in names if m}) == 2
    finally:
        setup.close()
