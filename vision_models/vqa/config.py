"""Configuration, bundle location and network factory of the medical VQA model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from qaid.question_types import QUESTION_TYPES
from vision_models.networks import build_network
from vision_models.vqa.memory import MemorySettings
from vision_models.vqa.network import ARCHITECTURE, NetConfig, VQANet
from vision_models.vqa.sentence import PACKAGED

BUNDLE_NAME = "vqa"
DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "weights" / BUNDLE_NAME
VERSION = "1.0.0"
MAX_TOKENS = 24  # question tokens the network reads
# Candidate settings chosen on the validation questions at calibration time.
PRIOR_POWERS = (0.0, 0.25, 0.5, 0.75, 1.0)
MEMORY_GRID = tuple(
    MemorySettings(sharpness=g, strength=c, width=w)
    for g in (4.0, 8.0, 16.0) for c in (0.5, 1.0, 1.5) for w in (0.02, 0.05, 0.1)
)


@dataclass
class VQAConfig:
    """Everything a training run depends on (recorded in the bundle config, paths aside)."""

    out: Path = DEFAULT_BUNDLE
    name: str = BUNDLE_NAME
    vqa_rad: Path | None = None
    slake: Path | None = None
    pretrain_dirs: list[Path] = field(default_factory=list)
    cache_dir: Path | None = None
    image_size: int = 96
    epochs: int = 30
    pretrain_epochs: int = 4
    batch_questions: int = 64
    lr: float = 1.5e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    rad_repeat: int = 1
    recon_weight: float = 1.0
    mechanisms: tuple[str, ...] = ("ban", "san")
    embed_dim: int = 128
    hidden: int = 192
    seed: int = 7
    threads: int = 1
    memory: bool = False
    sentence_encoder: str = PACKAGED

    def network_params(self, vocab_size: int, n_answers: int) -> dict[str, Any]:
        """Factory parameters recorded in the bundle (the network's :class:`NetConfig`)."""
        return NetConfig(
            vocab_size=vocab_size, n_answers=n_answers, n_types=len(QUESTION_TYPES), image_size=self.image_size,
            mechanisms=tuple(self.mechanisms), embed_dim=self.embed_dim, hidden=self.hidden, memory=self.memory,
        ).to_dict()


def create_network(config: VQAConfig, vocab_size: int, n_answers: int) -> VQANet:
    """Build an untrained VQA network for ``config``, a vocabulary and an answer list of these sizes."""
    return cast(VQANet, build_network(ARCHITECTURE, config.network_params(vocab_size, n_answers)))
