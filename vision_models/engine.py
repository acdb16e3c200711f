"""Training engine shared by every model: seeding, deterministic CPU settings, the epoch loop.

The loop is data-agnostic: the caller provides in-memory inputs, targets, a loss and an
augmentation function; the engine shuffles with a seeded generator, shows a tqdm progress bar
and follows a one-cycle learning-rate schedule.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

BatchFn = Callable[[np.ndarray, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class TrainSettings:
    """Optimisation settings recorded in every bundle."""

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 20261122
    threads: int = 1
    max_steps: int | None = None
    ema_decay: float | None = None


class WeightAverage:
    """Exponential moving average of a network's parameters and buffers (batch-norm statistics included).

    The decay ramps up as ``min(decay, (1 + step) / (10 + step))`` so that early weights do not linger;
    integer buffers (batch counters) are copied, not averaged.
    """

    def __init__(self, network: nn.Module, decay: float) -> None:
        self.decay = decay
        self.steps = 0
        self.state = {k: v.detach().clone() for k, v in network.state_dict().items()}

    def update(self, network: nn.Module) -> None:
        """Fold the network's current weights into the average."""
        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        with torch.no_grad():
            for key, value in network.state_dict().items():
                if value.is_floating_point():
                    self.state[key].lerp_(value.detach(), 1.0 - decay)
                else:
                    self.state[key].copy_(value)

    def copy_to(self, network: nn.Module) -> None:
        """Load the averaged weights into ``network``."""
        network.load_state_dict(self.state)


@dataclass
class TrainHistory:
    """Mean training loss per epoch and wall-clock seconds."""

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0


def seed_everything(seed: int, threads: int) -> torch.Generator:
    """Seed Python, NumPy and torch, force deterministic algorithms, and return a torch generator."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def fit(network: nn.Module, num_samples: int, make_batch: BatchFn, loss_fn: Callable[[torch.Tensor, torch.Tensor],
        torch.Tensor], settings: TrainSettings, generator: torch.Generator, desc: str = "training",
        epoch_indices: Callable[[int], np.ndarray] | None = None) -> TrainHistory:
    """Train ``network`` in place.

    ``make_batch(indices, generator)`` returns (inputs, targets) for sample ``indices``, augmentation
    included. ``epoch_indices(epoch)`` may choose the samples of each epoch, as a pure function of the
    epoch, always the same count (default: all ``num_samples``); the engine shuffles them. Stops early
    after ``settings.max_steps`` optimisation steps when set. With ``settings.ema_decay`` the network ends
    with the exponential moving average of its weights over the steps instead of the last ones.
    """
    def indices_for(epoch: int) -> np.ndarray:
        chosen = epoch_indices(epoch) if epoch_indices else np.arange(num_samples)
        return chosen[torch.randperm(len(chosen), generator=generator).numpy()]

    per_epoch = -(-(len(epoch_indices(0)) if epoch_indices else num_samples) // settings.batch_size)
    total = per_epoch * settings.epochs
    if settings.max_steps is not None:
        total = min(total, settings.max_steps)
    optimiser = torch.optim.AdamW(network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=settings.learning_rate, total_steps=max(total, 1),
                                                   pct_start=0.15)
    average = WeightAverage(network, settings.ema_decay) if settings.ema_decay else None
    history = TrainHistory()
    start = time.monotonic()
    network.train()
    with tqdm(total=total, desc=desc, unit="step") as bar:
        for epoch in range(settings.epochs):
            order = indices_for(epoch)
            losses = []
            for begin in range(0, len(order), settings.batch_size):
                if history.steps >= total:
                    break
                inputs, targets = make_batch(order[begin:begin + settings.batch_size], generator)
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(network(inputs), targets)
                loss.backward()
                optimiser.step()
                schedule.step()
                if average is not None:
                    average.update(network)
                losses.append(float(loss.detach()))
                history.steps += 1
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{np.mean(losses):.4f}")
            if losses:
                history.losses.append(float(np.mean(losses)))
            if history.steps >= total:
                break
    if average is not None:
        average.copy_to(network)
    network.eval()
    history.seconds = time.monotonic() - start
    return history
