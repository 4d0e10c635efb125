"""Configuration: ``convene.toml`` plus ``CONVENE_*`` environment variables.

Environment variables win over the file; nested keys use ``__``
(``CONVENE_SMTP__HOST``). ``examples/convene.toml`` documents every key.
A bad value raises ConfigError naming the key and what it expects.

An adapter's section (``[<plugin name>]``) is declared by its plugin
(:attr:`bot.plugins.Plugin.settings_model`) and validated here with the rest,
with the same errors and environment variables (``CONVENE_<NAME>__<KEY>``);
read it with :meth:`Settings.section`.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT_ROOT / "examples"


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"an IANA time zone such as Europe/Paris, not {value!r}") from None
    return value


class HttpSettings(BaseModel):
    """The HTTP app (health, vote links, calendar feeds, adapters' endpoints)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    base_url: str = ""
    #: Load shedding (bot/shed.py): pages served at once, how many more may wait
    #: (each at most ``queue_seconds``); any other gets 503 with Retry-After.
    max_in_flight: int = Field(32, ge=1)
    max_queued: int = Field(64, ge=0)
    queue_seconds: float = Field(5.0, gt=0)

    def public_url(self) -> str:
        """The URL people's links point at (``base_url`` or ``http://host:port``)."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")


class SmtpSettings(BaseModel):
    """Outgoing mail over SMTP; when ``host`` is empty, mail is written as .eml files."""

    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: SecretStr = SecretStr("")
    timeout: float = Field(30.0, gt=0)


class MailSettings(BaseModel):
    """Mail identity and the file transport's folder."""

    from_address: str = "convene@alliance.example"
    from_name: str = "Convene"
    outbox_dir: Path = Path("./outbox")


class ImapSettings(BaseModel):
    """The mailbox replies are read from (email voting)."""

    host: str = ""
    port: int = Field(993, ge=1, le=65535)
    ssl: bool = True
    username: str = ""
    password: SecretStr = SecretStr("")
    folder: str = "INBOX"
    poll_seconds: int = Field(60, ge=5)


class OutboxSettings(BaseModel):
    """Delivery of outbox rows: retries with exponential back-off."""

    poll_seconds: float = Field(2.0, gt=0)
    max_attempts: int = Field(12, ge=1)
    backoff_seconds: float = Field(5.0, gt=0)
    batch_size: int = Field(100, ge=1)


class QueueSettings(BaseModel):
    """Leased queues shared by replicas (bot/queue.py).

    ``instance_id``: this process's name in ``queue_instances``; empty: host:port
    under ``convene serve`` (so a restart frees its own rows at once), random
    otherwise. A heartbeat every ``heartbeat_seconds``; rows of an instance
    silent for ``stale_seconds`` are taken over by the others (within about a
    second more: the inbox looks every second). A restart under the same
    id takes its rows back at once; under a new id (a new port or host name, a
    recreated container) they wait out ``stale_seconds``, which is why it is
    short: a killed process's acknowledged chat requests are recorded within
    5 s of the restart. Taking over a live but silent instance's rows costs
    repeated work, never a repeated act (dispatch drops a seen event id)."""

    instance_id: str = Field("", max_length=48)
    heartbeat_seconds: float = Field(1.0, gt=0)
    stale_seconds: float = Field(3.0, gt=0)


class JobsSettings(BaseModel):
    """Periodic jobs: fired only on the replica holding the scheduler lease (a
    PostgreSQL advisory lock; on SQLite the one process). Replicas that do not
    hold it try every ``lease_check_seconds``: the longest a dead holder's lease
    waits to pass on (its connection closing frees the lock)."""

    lease_check_seconds: float = Field(10.0, gt=0, le=60)
    lock_key: int = 0x436F6E76  # "Conv"


class DigestSettings(BaseModel):
    """The weekly press review. ``day`` is mon..sun; ``time`` HH:MM in ``timezone``."""

    feeds: list[str] = Field(default_factory=list)
    items: int = Field(10, ge=1, le=100)
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "Europe/Paris"
    channel: str = ""
    taxonomy_file: Path | None = None
    fetch_concurrency: int = Field(8, ge=1, le=64)
    fetch_timeout: float = Field(20.0, gt=0)
    max_feed_bytes: int = Field(10_000_000, ge=1024)

    _check_zone = field_validator("timezone")(classmethod(lambda cls, v: _zone(v)))


class PollSettings(BaseModel):
    """Consensus polls: defaults for new proposals."""

    quorum_percent: int = Field(50, ge=0, le=100)
    reminder_hours: list[int] = Field(default_factory=lambda: [24, 2])
    auto_email_round: bool = False
    email_round_hours: int = Field(72, ge=1)
    #: Where email-round replies go (the mailbox read over IMAP); empty: mail.from_address.
    reply_address: str = ""
    #: Seconds between scans for due rounds and reminders in ``convene serve``.
    tick_seconds: int = Field(60, ge=5)


class SprintSettings(BaseModel):
    """Innovation sprints: how long a freed seat is held, and the weekly nudge."""

    #: Hours an offer of a freed seat stays open (lengthened until it holds
    #: ``min_waking_hours`` between ``waking_start`` and ``waking_end`` in the
    #: recipient's own zone).
    offer_hours: int = Field(48, ge=1, le=24 * 14)
    min_waking_hours: int = Field(12, ge=0, le=72)
    waking_start: int = Field(8, ge=0, le=23)
    waking_end: int = Field(22, ge=1, le=24)
    #: Seconds between scans for expired offers and funding deadlines.
    tick_seconds: int = Field(60, ge=5)
    #: The weekly nudge of open sprints matching each person's interests (UTC).
    nudge_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    nudge_hour: int = Field(9, ge=0, le=23)

class WorkshopSettings(BaseModel):
    """Quarterly virtual workshops (bot/workshops)."""

    #: Reminders before a workshop, in minutes (7 days, 1 day, 1 hour).
    reminder_minutes: list[int] = Field(default_factory=lambda: [10080, 1440, 60])
    #: ORGANIZER of invites: a mailbox Convene reads ([imap]); empty: mail.from_address.
    calendar_address: str = ""
    #: How long availability and RSVP links stay valid, in days.
    link_days: int = Field(45, ge=1, le=365)
    #: Share of the group's members who must be able to come for a slot to reach quorum.
    quorum_percent: int = Field(50, ge=0, le=100)
    #: An observer's weight in "who can come" (a member weighs 1).
    observer_weight: float = Field(0.5, ge=0, le=1)
    #: Days before a workshop its agenda is circulated by itself (the
    #: ``workshops.agenda`` job, once per workshop unless published by hand
    #: before); 0: only by hand (``workshop agenda publish``).
    agenda_days: int = Field(7, ge=0, le=60)
    #: Seconds between scans for due reminders in ``convene serve``.
    tick_seconds: int = Field(60, ge=5)


class Settings(BaseSettings):
    """Every key Convene reads. See examples/convene.toml."""

    model_config = SettingsConfigDict(
        env_prefix="CONVENE_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    database_url: str = "sqlite:///./convene.db"
    alliance_name: str = Field("Alliance", min_length=1, max_length=200)
    secret_key: SecretStr = SecretStr("")
    secret_file: Path = Path("./convene.secret")
    default_language: Literal["en", "fr", "es"] = "en"
    default_timezone: str = "UTC"
    roster_file: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Capabilities to load by entry-point name (``convene.capabilities``);
    #: unset loads every installed one. A name not installed stops start-up.
    capabilities: list[str] | None = None
    http: HttpSettings = Field(default_factory=HttpSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    imap: ImapSettings = Field(default_factory=ImapSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    polls: PollSettings = Field(default_factory=PollSettings)
    sprints: SprintSettings = Field(default_factory=SprintSettings)

    workshops: WorkshopSettings = Field(default_factory=WorkshopSettings)

    _check_zone = field_validator("default_timezone")(classmethod(lambda cls, v: _zone(v)))

    @model_validator(mode="wrap")
    @classmethod
    def _plugin_sections(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Validate each plugin's section with the plugin's model; the errors of
        every section and of the rest are raised together, each at its key."""
        sections = plugin_sections()
        raw: dict[str, Any] = {}
        if isinstance(data, Mapping):
            raw = {k: v for k, v in data.items() if k in sections}
            data = {k: v for k, v in data.items() if k not in sections}
        errors: list[InitErrorDetails] = []
        made: dict[str, BaseModel] = {}
        for name, model in sections.items():
            try:
                value = raw.get(name, {})
                made[name] = value if isinstance(value, model) else model.model_validate(value)
            except ValidationError as exc:
                errors += _nested(name, exc)
        try:
            settings = handler(data)
        except ValidationError as exc:
            raise ValidationError.from_exception_data(
                exc.title, _nested(None, exc) + errors) from None
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        for name, section in made.items():
            # A plain attribute (``settings.<name>``), kept by model_copy.
            object.__setattr__(settings, name, section)
        return settings

    def section(self, name: str, model: type[M]) -> M:
        """The validated ``[name]`` section (an instance of ``model``, the one
        the plugin declared); ``model()``'s defaults when no plugin of that
        name was installed when these settings were read."""
        found = self.__dict__.get(name)
        return found if isinstance(found, model) else model()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings,
                                                      _PluginEnv(settings_cls)]
        if toml:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    def signing_key(self) -> str:
        """The key for signed links and ballot tokens: ``secret_key``, else the key
        kept in ``secret_file`` (generated atomically on first use, mode 0600).
        Raises ConfigError for an empty or short key (see :mod:`bot.signing`)."""
        from bot.signing import signing_key

        return signing_key(self.secret_key.get_secret_value(), self.secret_file)


def plugin_sections() -> dict[str, type[BaseModel]]:
    """``{plugin name: its settings model}`` of every installed ``convene.plugins``
    entry point that declares one (:attr:`bot.plugins.Plugin.settings_model`).
    A plugin that fails to load declares nothing here (bot.plugins logs it)."""
    found: dict[str, type[BaseModel]] = {}
    for ep in sorted(entry_points(group="convene.plugins"), key=lambda e: e.name):
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001 - load_plugins reports it, with its traceback
            log.debug("plugin %s declares no settings: it did not load (%s)", ep.name, exc)
            continue
        model = getattr(plugin, "settings_model", None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            found[str(getattr(plugin, "name", ep.name))] = model
    return found


def _nested(prefix: str | None, exc: ValidationError) -> list[InitErrorDetails]:
    """``exc``'s errors, each under ``prefix`` (a section name) when given."""
    out: list[InitErrorDetails] = []
    for err in exc.errors():
        loc = ((prefix,) if prefix else ()) + tuple(err["loc"])
        detail: InitErrorDetails = {"type": err["type"], "loc": loc, "input": err["input"]}
        if "ctx" in err:
            detail["ctx"] = err["ctx"]
        out.append(detail)
    return out


class _PluginEnv(PydanticBaseSettingsSource):
    """``CONVENE_<SECTION>__<KEY>`` for the plugins' sections (the environment
    source reads only the declared fields). A value that is a JSON list or
    object (``["T1", "T2"]``) is read as one, as the environment source does."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        prefix = str(self.config.get("env_prefix", "")).lower()
        delimiter = str(self.config.get("env_nested_delimiter") or "__")
        sections = plugin_sections()
        out: dict[str, Any] = {}
        for var, value in os.environ.items():
            name = var.lower()
            if not name.startswith(prefix):
                continue
            section, _, key = name[len(prefix):].partition(delimiter)
            if section not in sections or not key or delimiter in key:
                continue
            out.setdefault(section, {})[key] = _maybe_json(value)
        return out


def _maybe_json(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def default_config_path() -> Path | None:
    """``$CONVENE_CONFIG``, else ``./convene.toml``, else the example file."""
    env = os.environ.get("CONVENE_CONFIG")
    if env:
        return Path(env)
    local = Path("convene.toml")
    if local.exists():
        return local
    example = EXAMPLES / "convene.toml"
    return example if example.exists() else None


#: Key names whose values are never echoed in a configuration error.
_SECRET_KEY = re.compile(r"pass(word|wd)?|token|secret|key|credential", re.IGNORECASE)


def _redacted(value: Any) -> Any:
    """``value`` with the values of secret-looking keys of nested tables hidden."""
    if isinstance(value, dict):
        return {k: "***" if _SECRET_KEY.search(str(k)) else _redacted(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def load_settings(path: Path | None = None, /, **overrides: Any) -> Settings:
    """Read settings from ``path`` (a TOML file, optional) and the environment.

    Raises ConfigError naming each bad key and what it expects.
    """
    if path is not None and not path.exists():
        raise ConfigError(f"configuration file {path} does not exist")

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path) if path else SettingsConfigDict()

    try:
        return _FileSettings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            shown = "(value hidden)" if _SECRET_KEY.search(key) else \
                f"(got {_redacted(err.get('input'))!r})"
            lines.append(f"{key}: {err['msg']} {shown}")
        where = f" in {path}" if path else ""
        raise ConfigError(f"bad configuration{where}:\n  " + "\n  ".join(lines)) from None
    except ValueError as exc:  # TOML syntax errors
        raise ConfigError(f"cannot read {path}: {exc}") from None
