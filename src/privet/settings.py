"""Privet's settings: one object, built at the entry point and passed down.

Values come from environment variables (``PRIVET_*``) and an optional
``privet.toml`` in the working directory. Nothing reads the environment at
import time.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from privet.errors import ConfigError


class Settings(BaseSettings):
    """Everything Privet needs to know about its surroundings."""

    model_config = SettingsConfigDict(env_prefix="PRIVET_", toml_file="privet.toml", extra="ignore")

    map: Path = Field(
        default=Path("privet.yaml"),
        description="The data map every command reads (PRIVET_MAP).",
    )
    home: Path = Field(
        default=Path(".privet"),
        description="Privet's working folder: state database, outbox, exports, secret file.",
    )
    state_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of Privet's own database; default sqlite:///<home>/state.db.",
    )
    smtp_url: str | None = Field(
        default=None,
        description="smtp://host:port for codes and notices; unset: .eml files in <home>/outbox.",
    )
    mail_from: str = Field(default="privacy@localhost", description="Sender address of Privet's mails.")
    secret_file: Path | None = Field(
        default=None,
        description="Keys for pseudonymization and encryption; created with mode 0600 on first use.",
    )
    broker_url: str | None = Field(
        default=None,
        description="Celery broker (redis://… or amqp://…); unset: the in-process worker runs jobs.",
    )
    export_ttl_days: int = Field(default=7, description="Days an access export stays downloadable.")
    code_resend_seconds: int = Field(
        default=60, ge=0, description="How long a subject waits before a verification code is sent again."
    )
    job_queue: str = Field(
        default="privet",
        pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
        description="The broker queue Privet's jobs go through (one per Privet installation).",
    )
    job_visibility_seconds: int = Field(
        default=3600,
        ge=1,
        description="With a Redis broker: after how long a job held by a worker that died is given to "
        "another (longer than the longest job).",
    )
    retention_daily: bool = Field(
        default=False,
        description="Run the map's retention rules once a day (in `privet serve`, or by the Celery beat "
        "of `privet worker --beat`).",
    )
    reminder_email: str | None = Field(
        default=None,
        description="Where deadline reminders go for requests of tenants without a contact address.",
    )
    retention_vacuum_rows: int = Field(
        default=100_000,
        ge=1,
        description="A retention sweep that rewrote at least this many rows of a PostgreSQL table "
        "runs VACUUM (ANALYZE) on it afterwards.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of `privet serve`, used in mailed links."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def resolved_state_url(self) -> str:
        if self.state_url:
            return self.state_url
        return f"sqlite:///{self.home / 'state.db'}"

    @property
    def resolved_secret_file(self) -> Path:
        return self.secret_file or (self.home / "secret.key")

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    @property
    def exports_dir(self) -> Path:
        return self.home / "exports"

    def ensure_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)

    def master_key(self) -> bytes:
        """The installation's 32-byte master key, created (mode 0600) on first use."""
        path = self.resolved_secret_file
        if path.exists():
            data = path.read_bytes().strip()
            try:
                key = bytes.fromhex(data.decode("ascii"))
            except ValueError as exc:
                raise ConfigError(
                    f"secret file {path} does not hold a hex key",
                    value=str(path),
                    hint="delete it to have a new one created, or restore it from your backup",
                ) from exc
            if len(key) != 32:
                raise ConfigError(f"secret file {path} holds {len(key)} bytes, expected 32", value=str(path))
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex() + "\n")
        return key


def load_settings(**overrides: Any) -> Settings:
    """Build the settings at an entry point; overrides win over the environment."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)
