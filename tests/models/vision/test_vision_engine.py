"""Training is seeded and deterministic on CPU."""

from __future__ import annotations

from pathlib import Path

import torch

from vision_models.bundle import load_bundle
from vision_models.networks import network_from_config
from vision_models.prefilter.config import PrefilterConfig
from vision_models.prefilter.train import train


def _train(data_root: Path, out: Path) -> dict[str, torch.Tensor]:
    config = PrefilterConfig(input_size=32, features=(4, 8))
    config.settings.epochs, config.settings.batch_size, config.settings.max_steps = 1, 8, 2
    train(data_root, out, config, eval_split=None)
    return load_bundle(out, network_from_config).network.state_dict()


def test_same_seed_same_weights(data_root: Path, tmp_path: Path) -> None:
    first, second = _train(data_root, tmp_path / "a"), _train(data_root, tmp_path / "b")
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
