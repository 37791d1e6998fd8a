"""A real uvicorn server on a free loopback port, in a thread, for API and browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def consent_check(
    base: str,
    headers: dict[str, str],
    subject: str = "email:anna@example.com",
    purpose: str = "marketing_email",
) -> dict[str, object]:
    """GET /v1/consents/check over HTTP: the answer's JSON."""
    r = httpx.get(
        f"{base}/v1/consents/check", params={"subject": subject, "purpose": purpose}, headers=headers
    )
    assert r.status_code == 200, r.text
    answer: dict[str, object] = r.json()
    return answer
