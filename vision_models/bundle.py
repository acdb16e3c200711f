"""Model bundles: a weights file plus a small JSON config that the loader verifies.

A bundle is a folder holding ``config.json`` and the weights file it names. The config
records the architecture and its factory parameters, the input size, channels, classes,
normalisation, version, metrics and the SHA-256 of the weights. :func:`load_bundle`
accepts a local folder or an ``http(s)://`` base URL, and refuses weights whose
checksum differs from the config.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.pt"


class BundleError(RuntimeError):
    """A bundle that is missing, unreadable or fails its checksum."""


@dataclass
class BundleConfig:
    """Everything needed to rebuild and use a trained network."""

    name: str
    architecture: str
    params: dict[str, Any] = field(default_factory=dict)
    input_size: int = 64
    channels: int = 1
    classes: list[str] = field(default_factory=list)
    mean: float = 0.0
    std: float = 1.0
    version: str = "0.0.0"
    sha256: str = ""
    weights: str = WEIGHTS_NAME
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BundleConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Bundle:
    """A loaded bundle: its config and the network in eval mode."""

    config: BundleConfig
    network: nn.Module
    path: Path


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_bundle(network: nn.Module, config: BundleConfig, out_dir: Path | str) -> Path:
    """Write ``network``'s state dict and ``config`` (with the weights' SHA-256) to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights_path = out / config.weights
    state = {k: v.detach().cpu() for k, v in network.state_dict().items()}
    torch.save(state, weights_path)
    config.sha256 = sha256_file(weights_path)
    (out / CONFIG_NAME).write_text(config.to_json() + "\n")
    return out


def _fetch(url: str, dest: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as handle:
        handle.writelines(iter(lambda: response.read(1 << 20), b""))


def materialise(location: Path | str, cache_dir: Path | None = None, timeout: float = 60.0) -> Path:
    """Return a local folder for a bundle at a path or an ``http(s)://`` base URL.

    Remote bundles are downloaded into ``cache_dir`` (a temporary folder by default).
    """
    text = str(location)
    if not text.startswith(("http://", "https://")):
        path = Path(text)
        if not (path / CONFIG_NAME).is_file():
            raise BundleError(f"No bundle at {path}: {CONFIG_NAME} is missing.")
        return path
    base = text.rstrip("/")
    target = Path(cache_dir or tempfile.mkdtemp(prefix="bundle-"))
    target.mkdir(parents=True, exist_ok=True)
    try:
        _fetch(f"{base}/{CONFIG_NAME}", target / CONFIG_NAME, timeout)
        config = BundleConfig.from_dict(json.loads((target / CONFIG_NAME).read_text()))
        weights = target / config.weights
        if not weights.is_file() or sha256_file(weights) != config.sha256:
            _fetch(f"{base}/{config.weights}", weights, timeout)
    except OSError as exc:
        raise BundleError(f"Could not download the bundle from {base}: {exc}") from exc
    return target


def read_config(folder: Path) -> BundleConfig:
    """Read and parse a bundle folder's config."""
    try:
        return BundleConfig.from_dict(json.loads((folder / CONFIG_NAME).read_text()))
    except (OSError, json.JSONDecodeError, TypeError) as exc:
        raise BundleError(f"Unreadable bundle config in {folder}: {exc}") from exc


def load_bundle(
    location: Path | str,
    factory: Callable[[BundleConfig], nn.Module],
    cache_dir: Path | None = None,
) -> Bundle:
    """Load a bundle from a folder or URL, verify its checksum and build it with ``factory``."""
    folder = materialise(location, cache_dir)
    config = read_config(folder)
    weights = folder / config.weights
    if not weights.is_file():
        raise BundleError(f"Bundle {config.name}: weights file {config.weights} is missing.")
    actual = sha256_file(weights)
    if actual != config.sha256:
        raise BundleError(
            f"Bundle {config.name}: checksum mismatch (config {config.sha256[:12]}…, file {actual[:12]}…)."
        )
    network = factory(config)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    network.load_state_dict(state)
    network.eval()
    return Bundle(config=config, network=network, path=folder)
