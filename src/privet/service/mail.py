"""Mail to data subjects: SMTP when configured, else ``.eml`` files in the outbox folder."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from urllib.parse import urlparse

from privet.errors import ConfigError
from privet.settings import Settings


def send(settings: Settings, to: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    if not settings.smtp_url:
        settings.outbox.mkdir(parents=True, exist_ok=True)
        (settings.outbox / f"{uuid.uuid4()}.eml").write_bytes(bytes(msg))
        return
    url = urlparse(settings.smtp_url)
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ConfigError(
            f"PRIVET_SMTP_URL '{settings.smtp_url}' is not smtp://host:port", value=settings.smtp_url
        )
    cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with cls(url.hostname, url.port or (465 if url.scheme == "smtps" else 25), timeout=10) as smtp:
        if url.username:
            smtp.login(url.username, url.password or "")
        smtp.send_message(msg)
