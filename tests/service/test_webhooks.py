"""Recipients (Art. 19): a real local HTTP receiver gets signed events, retried until it answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from privet.errors import BadInput, UnknownName
from privet.service import add_tenant
from privet.service.models import WebhookDelivery
from privet.service.webhooks import add_webhook, notify, signature
from privet.state import StateDB, open_state


class Receiver:
    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.seen: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    box = Receiver(fail_first=1)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            box.seen.append((dict(self.headers), body))
            self.send_response(500 if len(box.seen) <= box.fail_first else 204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", box
    server.shutdown()
    server.server_close()


@pytest.fixture
def db(state_url: str) -> Iterator[StateDB]:
    state = open_state(state_url)
    add_tenant(state, "1")
    yield state
    state.dispose()


def test_when_an_erasure_completes_then_the_recipient_gets_a_signed_event_after_a_retry(
    db: StateDB, receiver: tuple[str, Receiver]
) -> None:
    url, box = receiver
    hook = add_webhook(db, "1", url)
    assert notify(db, "1", "req-1", "request.erasure.completed", {"tables": 3}, backoff=(0.01, 0.01)) == 1
    assert len(box.seen) == 2  # the first answer was a 500
    headers, body = box.seen[-1]
    assert headers["X-Privet-Signature"] == signature(hook["secret"], body)
    assert b'"request.erasure.completed"' in body and b"@" not in body
    with db.session() as s:
        d = s.execute(sa.select(WebhookDelivery)).scalar_one()
    assert (d.status, d.attempts) == ("delivered", 2)


def test_when_the_recipient_never_answers_then_the_failure_is_logged(db: StateDB) -> None:
    add_webhook(db, "1", "http://127.0.0.1:1/nothing-listens")
    assert notify(db, "1", "req-2", "request.restriction.completed", {}, backoff=(0.01,)) == 0
    with db.session() as s:
        d = s.execute(sa.select(WebhookDelivery)).scalar_one()
    assert d.status == "failed" and d.attempts == 2 and d.last_error


def test_when_a_webhook_is_bad_then_it_is_refused(db: StateDB) -> None:
    with pytest.raises(BadInput):
        add_webhook(db, "1", "ftp://example.com/x")
    with pytest.raises(UnknownName):
        add_webhook(db, "nobody", "https://example.com/x")
