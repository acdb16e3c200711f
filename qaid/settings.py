"""Action-server configuration: one YAML file (``services.yml`` at the repository root).

``QAID_SERVICES`` overrides the file's path and ``QAID_VAR_DIR`` the storage folder. Values
may reference environment variables as ``${NAME}`` (required) or ``${NAME:-default}``
(embedded default for local use), so secrets stay out of the file in production.
Database URLs may contain ``{var_dir}``, replaced by the resolved storage folder.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from qaid.images import MAX_FILE_BYTES
from qaid.state import REPO_ROOT

DEFAULT_SERVICES_PATH = REPO_ROOT / "services.yml"
CAPABILITIES = ("prefilter", "label", "vqa", "segmentation")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^{}]|\{[^{}]*\})*))?\}")


class SettingsError(ValueError):
    """A configuration file that is missing, malformed or references an unset variable."""


@dataclass(frozen=True)
class Location:
    """A point on Earth in decimal degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise SettingsError(f"Invalid coordinates lat={self.lat}, lon={self.lon}.")


@dataclass(frozen=True)
class IntakeConfig:
    """Where a hospital receives transcripts and the shared secret used to sign them."""

    url: str
    secret: str


@dataclass(frozen=True)
class HospitalConfig:
    """One hospital (HIP): where it is, what it serves and how to reach it."""

    name: str
    city: str
    location: Location
    capabilities: dict[str, str]
    image_types: tuple[str, ...]
    url: str | None
    intake: IntakeConfig | None

    @property
    def is_local(self) -> bool:
        """True when the hospital's models run in this process."""
        return self.url is None

    def covers(self, image_type: str | None) -> bool:
        """True when the hospital handles ``image_type`` (any type when it is unknown)."""
        return image_type is None or not self.image_types or image_type in self.image_types


@dataclass(frozen=True)
class RemoteConfig:
    """HTTP client behaviour towards remote hospitals."""

    timeout_s: float = 10.0
    retries: int = 2
    retry_backoff_s: float = 0.2
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0


@dataclass(frozen=True)
class AggregatorConfig:
    """How answers from several hospitals are gathered and combined."""

    deadline_s: float = 20.0
    max_hospitals: int = 3
    disagreement_threshold: float = 0.6
    default_accuracy: float = 0.5
    inference_threads: int = 2


@dataclass(frozen=True)
class DeliveryConfig:
    """The transcript outbox and its delivery worker."""

    database_url: str
    poll_interval_s: float = 2.0
    batch_size: int = 20
    timeout_s: float = 10.0
    backoff_base_s: float = 2.0
    backoff_max_s: float = 600.0
    dead_letter_after_days: float = 3.0
    lease_s: float = 60.0
    embedded_worker: bool = True


@dataclass(frozen=True)
class InboxConfig:
    """The hospital inbox receiver (embedded in the action server by default)."""

    embedded: bool
    host: str
    port: int
    database_url: str
    max_body_bytes: int = 5_000_000
    timestamp_window_s: float = 300.0


@dataclass(frozen=True)
class Settings:
    """Everything the action server reads from ``services.yml``."""

    path: Path
    var_dir: Path
    weights_dir: Path
    public_url: str
    max_image_bytes: int
    hospitals: tuple[HospitalConfig, ...]
    remote: RemoteConfig
    aggregator: AggregatorConfig
    delivery: DeliveryConfig
    inbox: InboxConfig
    screen_crop: str | None = None  # bundle that crops photos of a screen to the displayed image; None: off

    @property
    def media_dir(self) -> Path:
        """Content-addressed media store (``var/media``)."""
        return self.var_dir / "media"

    def hospital(self, name: str) -> HospitalConfig:
        """The hospital called ``name``; :class:`SettingsError` when there is none."""
        for hospital in self.hospitals:
            if hospital.name == name:
                return hospital
        known = ", ".join(h.name for h in self.hospitals)
        raise SettingsError(f"No hospital named {name!r} in {self.path} (known: {known}).")

    def bundle_path(self, bundle: str) -> Path:
        """Folder of a model bundle named in the configuration."""
        candidate = Path(bundle)
        return candidate if candidate.is_absolute() else self.weights_dir / bundle


def expand_env(value: Any, env: Mapping[str, str]) -> Any:
    """Replace ``${NAME}`` / ``${NAME:-default}`` in every string inside ``value``."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is None:
                raise SettingsError(f"Environment variable {name} is referenced in the configuration but not set.")
            return default

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, list):
        return [expand_env(item, env) for item in value]
    if isinstance(value, dict):
        return {key: expand_env(item, env) for key, item in value.items()}
    return value


def _resolve(path: str | Path, base: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate).resolve()


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    section = data.get(key) or {}
    if not isinstance(section, dict):
        raise SettingsError(f"Section {key!r} must be a mapping.")
    return section


_COERCE: dict[str, Callable[[Any], Any]] = {
    "int": int, "float": float, "str": str, "bool": lambda v: str(v).lower() in ("1", "true", "yes", "on"),
}


def _build(cls: type, values: dict[str, Any], where: str, **fixed: Any) -> Any:
    """Instantiate a config dataclass, converting values (possibly from env strings) to the field types."""
    types = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    unknown = set(values) - set(types)
    if unknown:
        raise SettingsError(f"Invalid {where}: unknown keys {sorted(unknown)}.")
    try:
        converted = {k: _COERCE[types[k]](v) if types[k] in _COERCE else v for k, v in values.items()}
        return cls(**{**converted, **fixed})
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"Invalid {where}: {exc}") from exc


DEV_SECRET_PREFIX = "local-dev-secret"


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is this machine (``localhost``, 127.0.0.0/8 or ``::1``)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(hospital: str, what: str, url: str) -> None:
    """Remote hospital and inbox URLs must be https: patient images and transcripts cross the network."""
    if not is_loopback_url(url) and urlsplit(url).scheme != "https":
        raise SettingsError(f"Hospital {hospital!r}: the {what} URL {url!r} must use https (or be on loopback).")


def _hospital(entry: Any, index: int) -> HospitalConfig:
    if not isinstance(entry, dict) or not entry.get("name"):
        raise SettingsError(f"Hospital #{index + 1} needs at least a name.")
    name = str(entry["name"])
    location = entry.get("location") or {}
    try:
        lat, lon = float(location["lat"]), float(location["lon"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(f"Hospital {name!r}: location needs numeric lat and lon.") from exc
    point = Location(lat, lon)
    capabilities = {str(k): str(v) for k, v in (entry.get("capabilities") or {}).items()}
    unknown = set(capabilities) - set(CAPABILITIES)
    if unknown:
        raise SettingsError(f"Hospital {name!r}: unknown capabilities {sorted(unknown)}; use {list(CAPABILITIES)}.")
    local, url = bool(entry.get("local", False)), entry.get("url")
    if local == bool(url):
        raise SettingsError(f"Hospital {name!r}: set exactly one of `local: true` or `url`.")
    intake = entry.get("intake")
    intake_config = None
    if intake:
        if not intake.get("url") or not intake.get("secret"):
            raise SettingsError(f"Hospital {name!r}: intake needs url and secret.")
        intake_config = IntakeConfig(url=str(intake["url"]), secret=str(intake["secret"]))
        _check_url(name, "intake", intake_config.url)
        if intake_config.secret.startswith(DEV_SECRET_PREFIX) and not is_loopback_url(intake_config.url):
            raise SettingsError(f"Hospital {name!r}: the intake at {intake_config.url} is not on this machine, so it "
                                f"needs its own secret, not the built-in {intake_config.secret!r} (set it in the "
                                "environment, see services.yml).")
    if url:
        _check_url(name, "service", str(url))
    return HospitalConfig(
        name=name,
        city=str(entry.get("city", "")),
        location=point,
        capabilities=capabilities,
        image_types=tuple(str(t) for t in entry.get("image_types") or ()),
        url=str(url).rstrip("/") if url else None,
        intake=intake_config,
    )


def _image_limit(value: Any) -> int:
    limit = int(value)
    if not 0 < limit <= MAX_FILE_BYTES:
        raise SettingsError(f"storage.max_image_bytes must be between 1 and {MAX_FILE_BYTES} (the models' own limit, "
                            f"qaid/images.py), not {limit}.")
    return limit


@cache
def image_size_limit() -> int:
    """``storage.max_image_bytes`` of the services configuration (``$QAID_SERVICES`` or the repository's): the
    one image-size limit of the channels, the action server's intake and the hospital service; the models'
    default when the file cannot be read."""
    try:
        return load_settings().max_image_bytes
    except SettingsError:
        return MAX_FILE_BYTES


def parse_settings(data: dict[str, Any], path: Path, env: Mapping[str, str]) -> Settings:
    """Build :class:`Settings` from the parsed YAML mapping ``data`` read from ``path``."""
    data = expand_env(data, env)
    base = path.parent
    storage = _section(data, "storage")
    var_dir = _resolve(env.get("QAID_VAR_DIR") or storage.get("var_dir", "var"), base)
    weights_dir = _resolve(storage.get("weights_dir", "vision_models/weights"), base)
    hospitals = tuple(_hospital(entry, i) for i, entry in enumerate(data.get("hospitals") or []))
    names = [h.name for h in hospitals]
    if len(set(names)) != len(names):
        raise SettingsError("Hospital names must be unique.")
    delivery = _section(data, "delivery")
    inbox = _section(data, "inbox")
    var_text = var_dir.as_posix()
    delivery_url = str(delivery.pop("database_url", "sqlite:///{var_dir}/outbox.sqlite")).replace("{var_dir}", var_text)
    inbox_url = str(inbox.pop("database_url", "sqlite:///{var_dir}/inbox.sqlite")).replace("{var_dir}", var_text)
    return Settings(
        path=path,
        var_dir=var_dir,
        weights_dir=weights_dir,
        public_url=str(data.get("public_url", "http://localhost:5005")).rstrip("/"),
        max_image_bytes=_image_limit(storage.get("max_image_bytes", MAX_FILE_BYTES)),
        hospitals=hospitals,
        remote=_build(RemoteConfig, _section(data, "remote"), "remote section"),
        aggregator=_build(AggregatorConfig, _section(data, "aggregator"), "aggregator section"),
        delivery=_build(DeliveryConfig, delivery, "delivery section", database_url=delivery_url),
        inbox=_build(
            InboxConfig,
            {"embedded": True, "host": "127.0.0.1", "port": 5056, **inbox},
            "inbox section",
            database_url=inbox_url,
        ),
        screen_crop=str(storage["screen_crop"]) if storage.get("screen_crop") else None,
    )


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load the services configuration from ``path``, ``$QAID_SERVICES`` or the repository default."""
    env = os.environ if env is None else env
    chosen = Path(path or env.get("QAID_SERVICES") or DEFAULT_SERVICES_PATH).expanduser().resolve()
    try:
        data = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SettingsError(f"Cannot read the services configuration {chosen}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"The services configuration {chosen} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"The services configuration {chosen} must be a mapping.")
    return parse_settings(data, chosen, env)
