"""Training is seeded and deterministic on CPU."""

from __future__ import annotations

from pathlib import Path

import torch

from vision_models.bundle import load_bundle
from vision_models.engine import TrainSettings, WeightAverage, fit, seed_everything
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


def test_weight_average_follows_the_decay_and_copies_counters() -> None:
    network = torch.nn.BatchNorm1d(2)
    average = WeightAverage(network, decay=0.5)
    with torch.no_grad():
        network.weight.fill_(3.0)
        network.num_batches_tracked.fill_(7)
    average.update(network)  # first step: decay min(0.5, 2/11) = 2/11, so the average moves 9/11 of the way
    assert torch.allclose(average.state["weight"], torch.full((2,), 1.0 + 2.0 * 9 / 11))
    assert int(average.state["num_batches_tracked"]) == 7
    target = torch.nn.BatchNorm1d(2)
    average.copy_to(target)
    assert torch.equal(target.weight, average.state["weight"])


def test_fit_with_weight_average_ends_on_the_average() -> None:
    inputs, targets = torch.randn(16, 3), torch.randn(16, 1)
    seen: list[torch.Tensor] = []

    def run(ema_decay: float | None) -> torch.nn.Module:
        generator = seed_everything(0, 1)
        network = torch.nn.Linear(3, 1)

        def loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            if ema_decay is None:  # the weights each step starts from; the average does not change training
                seen.append(network.weight.detach().clone())
            return torch.nn.functional.mse_loss(prediction, target)

        settings = TrainSettings(epochs=2, batch_size=4, ema_decay=ema_decay)
        fit(network, 16, lambda idx, _: (inputs[idx], targets[idx]), loss, settings, generator)
        return network

    plain, averaged = run(None), run(0.9)
    trajectory = [*seen, plain.weight.detach()]
    expected = trajectory[0].clone()
    for step, weight in enumerate(trajectory[1:], start=1):
        decay = min(0.9, (1 + step) / (10 + step))
        expected = decay * expected + (1 - decay) * weight
    assert len(trajectory) == 9
    assert torch.allclose(averaged.weight, expected, atol=1e-6)
    assert not torch.allclose(averaged.weight, plain.weight)
