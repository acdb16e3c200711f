"""Training from scratch: auto-encoder pretraining, VQA fine-tuning, calibration, bundle writing."""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from qaid.question_types import QUESTION_TYPES
from vision_models.bundle import BundleConfig, load_bundle, save_bundle
from vision_models.engine import seed_everything
from vision_models.networks import network_from_config
from vision_models.transforms import augment_vqa
from vision_models.vqa.config import (
    ARCHITECTURE,
    MAX_TOKENS,
    MEMORY_GRID,
    PRIOR_POWERS,
    VERSION,
    VQAConfig,
    create_network,
)
from vision_models.vqa.data import VQARecord, find_images, load_image_stack, read_split
from vision_models.vqa.evaluation import (
    accuracy_report,
    choose_threshold,
    fit_temperature,
    predict_records,
    true_type_distribution,
)
from vision_models.vqa.memory import MemorySettings, fingerprints
from vision_models.vqa.model import VQAModel, encode_questions
from vision_models.vqa.network import DenoisingAutoEncoder, VQANet
from vision_models.vqa.prior import count_matrix, sparse_counts
from vision_models.vqa.qtypes import ANSWER_TYPES
from vision_models.vqa.sentence import SentenceEncoder, shared_encoder
from vision_models.vqa.text import Vocabulary


def load_records(opts: VQAConfig) -> tuple[list[VQARecord], list[VQARecord]]:
    """Training and validation records of the chosen datasets (VQA-RAD val = its carved subset)."""
    train: list[VQARecord] = []
    val: list[VQARecord] = []
    for folder in (opts.vqa_rad, opts.slake):
        if folder is not None:
            train += read_split(folder, "train")
            val += read_split(folder, "val")
    if not train:
        raise ValueError("No training data: give --vqa-rad and/or --slake.")
    return train, val


def pretrain_autoencoder(
    dae: DenoisingAutoEncoder, stack: np.ndarray, epochs: int, seed: int, noise: float = 0.1, batch: int = 64
) -> list[float]:
    """Denoising pretraining on uint8 images (N, S, S); returns the mean loss per epoch."""
    optimiser = torch.optim.Adam(dae.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    dae.train()
    for _ in tqdm(range(epochs), desc="pretrain auto-encoder", unit="epoch"):
        total, order = 0.0, torch.randperm(len(stack), generator=generator)
        for start in range(0, len(stack), batch):
            clean = torch.from_numpy(stack[order[start:start + batch].numpy()]).float().div(255.0)[:, None]
            noisy = (clean + noise * torch.randn(clean.shape, generator=generator)).clamp(0, 1)
            _, recon = dae(noisy * 2.0 - 1.0)
            loss = F.mse_loss(recon, clean)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(clean)
        losses.append(total / len(stack))
    return losses


def image_batches(
    groups: dict[int, list[int]],
    batch_questions: int,
    generator: torch.Generator,
    repeats: dict[int, int] | None = None,
) -> list[list[int]]:
    """Shuffled batches of whole images (all their questions) of about ``batch_questions`` questions.

    ``repeats`` lists images seen more than once per epoch (oversampling).
    """
    pool = [image for image in groups for _ in range((repeats or {}).get(image, 1))]
    order = [pool[i] for i in torch.randperm(len(pool), generator=generator).tolist()]
    batches, current, count = [], [], 0
    for image in order:
        current.append(image)
        count += len(groups[image])
        if count >= batch_questions:
            batches.append(current)
            current, count = [], 0
    if current:
        batches.append(current)
    return batches


def _bundle_config(opts: VQAConfig, vocab: Vocabulary, answers: list[str],
                   train: Sequence[VQARecord]) -> BundleConfig:
    type_counts = count_matrix(((r.types, r.answer) for r in train), QUESTION_TYPES, answers)
    answer_type_counts = count_matrix((((r.answer_type,), r.answer) for r in train), ANSWER_TYPES, answers)
    return BundleConfig(
        name=opts.name, architecture=ARCHITECTURE,
        params=opts.network_params(len(vocab), len(answers)), input_size=opts.image_size,
        channels=1, classes=list(QUESTION_TYPES), mean=0.5, std=0.5, version=VERSION,
        extra={
            "vocabulary": vocab.words, "answers": answers, "max_tokens": MAX_TOKENS,
            "type_prior_counts": sparse_counts(type_counts, QUESTION_TYPES),
            "answer_type_prior_counts": sparse_counts(answer_type_counts, ANSWER_TYPES),
            "temperature": 1.0, "abstain_threshold": 0.0, "prior_power": 1.0,
            "training": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()
                         if k not in ("out", "cache_dir", "pretrain_dirs", "sentence_encoder")},
        },
    )


class Trainer:
    """Holds the data tensors of one run and performs the VQA fine-tuning epochs."""

    def __init__(self, opts: VQAConfig, train: list[VQARecord], val: list[VQARecord]) -> None:
        self.opts, self.train, self.val = opts, train, val
        self.vocab = Vocabulary.build(r.question for r in train)
        self.answers = sorted({r.answer for r in train})
        answer_index = {a: i for i, a in enumerate(self.answers)}
        paths = sorted({r.image for r in train + val})
        self.path_index = {p: i for i, p in enumerate(paths)}
        stack = load_image_stack(paths, opts.image_size, opts.cache_dir)
        self.stack = torch.from_numpy(stack).float().div(255)[:, None]
        self.tokens, self.lengths = encode_questions(self.vocab, [r.question for r in train], MAX_TOKENS)
        self.targets = torch.tensor([answer_index[r.answer] for r in train])
        self.type_targets = true_type_distribution(train)
        self.closed = torch.tensor([ANSWER_TYPES.index(r.answer_type) for r in train])
        self.groups: dict[int, list[int]] = {}
        for i, record in enumerate(train):
            self.groups.setdefault(self.path_index[record.image], []).append(i)
        self.repeats = {self.path_index[r.image]: opts.rad_repeat for r in train if r.source == "vqa_rad"}
        self.config = _bundle_config(opts, self.vocab, self.answers, train)
        self.val_index = [self.path_index[r.image] for r in val]
        self.sentences: SentenceEncoder | None = shared_encoder(opts.sentence_encoder) if opts.memory else None

    def fill_memory(self, net: VQANet, records: Sequence[VQARecord]) -> None:
        """Store ``records`` (those with an answer in the vocabulary) as the network's case memory."""
        if net.memory is None or self.sentences is None:
            raise ValueError("This network has no case memory.")
        index = {a: i for i, a in enumerate(self.answers)}
        kept = [r for r in records if r.answer in index]
        net.memory.fill(
            image_keys=fingerprints(self.stack),
            case_image=torch.tensor([self.path_index[r.image] for r in kept]),
            case_questions=self.sentences.encode([r.question for r in kept]),
            case_answers=torch.tensor([index[r.answer] for r in kept]),
            case_closed=torch.tensor([r.answer_type == "CLOSED" for r in kept]),
        )
        self.config.extra["memory"] = {
            **self.config.extra.get("memory", {}),
            "sentence_encoder": self.sentences.describe(),
            "cases": len(kept),
            "includes_vqa_rad_val": any(r.source == "vqa_rad" for r in records[len(self.train):]),
        }

    def choose_prior_power(self, model: VQAModel, use_memory: bool) -> dict[float, float]:
        """Set the prior strength β with the best validation accuracy; returns the accuracy of each β."""
        strengths = {}
        for power in PRIOR_POWERS:
            model.priors.power = power
            probs = predict_records(model, self.val, self.stack, self.val_index, use_memory=use_memory)
            strengths[power] = float(accuracy_report(self.val, self.answers, probs, 0.0)["overall"])
        model.priors.power = max(PRIOR_POWERS, key=lambda p: (strengths[p], p))
        self.config.extra["prior_power"] = model.priors.power
        return strengths

    def choose_memory(self, model: VQAModel) -> dict[str, float]:
        """Pick the memory settings with the best validation accuracy (memory of training cases only)."""
        scores = {}
        for settings in tqdm(MEMORY_GRID, desc="memory settings", unit="setting", leave=False):
            model.memory_settings = settings
            probs = predict_records(model, self.val, self.stack, self.val_index)
            scores[settings] = float(accuracy_report(self.val, self.answers, probs, 0.0)["overall"])
        best = max(MEMORY_GRID, key=lambda s: scores[s])
        model.memory_settings = best
        self.config.extra["memory"]["settings"] = best.to_dict()
        return {f"g{s.sharpness:g}-c{s.strength:g}-w{s.width:g}": acc for s, acc in scores.items()}

    def batch_loss(self, net: VQANet, images: list[int], generator: torch.Generator) -> torch.Tensor:
        """Answer, type and reconstruction losses of one batch of images with all their questions."""
        pixels = augment_vqa(self.stack[images], generator)
        local = {img: j for j, img in enumerate(images)}
        rows = [i for img in images for i in self.groups[img]]
        index = torch.tensor([local[self.path_index[self.train[i].image]] for i in rows])
        regions, recon = net.encode_images(pixels)
        if recon is None:
            raise RuntimeError("encode_images returned no reconstruction while training")
        lengths = self.lengths[rows]
        outputs = net(regions, index, self.tokens[rows, : int(lengths.max())], lengths)
        targets = self.targets[rows]
        q = torch.softmax(outputs["type_logits"], dim=-1).detach()
        mixed = F.nll_loss(net.mixed_log_probs(outputs["answer_logits"], q), targets)
        logits = outputs["answer_logits"]
        per_head = F.cross_entropy(logits.flatten(0, 1), targets.repeat_interleave(logits.shape[1]),
                                   label_smoothing=self.opts.label_smoothing)
        type_loss = -(self.type_targets[rows] * torch.log_softmax(outputs["type_logits"], dim=-1)).sum(1).mean()
        closed_loss = F.cross_entropy(outputs["answer_type_logits"], self.closed[rows])
        recon_loss = F.mse_loss(recon, pixels)
        return mixed + per_head + type_loss + closed_loss + self.opts.recon_weight * recon_loss

    def validate(self, model: VQAModel) -> dict[str, Any]:
        """Accuracy report of ``model`` on the validation records (prior from the model's head)."""
        probs = predict_records(model, self.val, self.stack, self.val_index)
        return accuracy_report(self.val, self.answers, probs, threshold=0.0)

    def fit(self, net: VQANet) -> tuple[VQANet, list[dict[str, object]]]:
        """Fine-tune ``net``; returns the state with the best validation accuracy and the epoch log."""
        opts = self.opts
        optimiser = torch.optim.AdamW(net.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
        generator = torch.Generator().manual_seed(opts.seed)
        probe = image_batches(self.groups, opts.batch_questions, torch.Generator().manual_seed(0), self.repeats)
        steps = opts.epochs * len(probe)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=opts.lr, total_steps=steps + opts.epochs,
                                                        pct_start=0.1)
        model = VQAModel(net, self.config)
        best, best_acc, log = copy.deepcopy(net.state_dict()), -1.0, []
        bar = tqdm(range(opts.epochs), desc="train vqa", unit="epoch")
        for epoch in bar:
            net.train()
            total, batches = 0.0, image_batches(self.groups, opts.batch_questions, generator, self.repeats)
            for images in batches:
                loss = self.batch_loss(net, images, generator)
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimiser.step()
                scheduler.step()
                total += float(loss.detach())
            net.eval()
            report = self.validate(model) if self.val else {"overall": -total}
            log.append({"epoch": epoch + 1, "loss": round(total / len(batches), 4), "val": report["overall"]})
            bar.set_postfix(loss=log[-1]["loss"], val=report["overall"])
            if float(report["overall"]) > best_acc:
                best, best_acc = copy.deepcopy(net.state_dict()), float(report["overall"])
        net.load_state_dict(best)
        return net.eval(), log

    def calibrate(self, net: VQANet) -> dict[str, object]:
        """Fit the temperature and abstention threshold on validation; returns the validation metrics."""
        self.config.extra["temperature"], self.config.extra["abstain_threshold"] = 1.0, 0.0
        if not self.val:
            return {}
        model = VQAModel(net, self.config, self.sentences)
        strengths = self.choose_prior_power(model, use_memory=False)
        memory_scores, memory_strengths = {}, {}
        if net.memory is not None:  # coordinate search: memory for that prior strength, then the strength again
            memory_scores = self.choose_memory(model)
            memory_strengths = self.choose_prior_power(model, use_memory=True)
        probs = predict_records(model, self.val, self.stack, self.val_index)
        index = {a: i for i, a in enumerate(self.answers)}
        targets = torch.tensor([index.get(r.answer, -1) for r in self.val])
        temperature = fit_temperature(torch.log(probs), targets)
        scaled = torch.softmax(torch.log(probs) / temperature, dim=-1)
        confidence, best = scaled.max(dim=1)
        correct = (best == targets).numpy()
        threshold = choose_threshold(confidence.numpy(), correct)
        self.config.extra["temperature"], self.config.extra["abstain_threshold"] = temperature, threshold
        metrics: dict[str, Any] = {"val": accuracy_report(self.val, self.answers, scaled, threshold)}
        for source in ("vqa_rad", "slake"):
            rows = [i for i, r in enumerate(self.val) if r.source == source]
            if rows:
                metrics[f"val_{source}"] = accuracy_report([self.val[i] for i in rows], self.answers, scaled[rows],
                                                           threshold)
        metrics["val_accuracy_by_type"] = metrics["val"]["by_type"]
        metrics["val_accuracy_by_prior_power"] = {str(p): acc for p, acc in strengths.items()}
        if memory_scores:
            metrics["val_accuracy_by_memory_setting"] = memory_scores
            metrics["val_accuracy_by_prior_power_with_memory"] = {str(p): acc for p, acc in memory_strengths.items()}
        return metrics

    def finish(self, net: VQANet) -> dict[str, object]:
        """Calibrate on validation; then (with a memory) store every question of the official training files.

        VQA-RAD's validation questions are carved out of its training file, so once calibration is
        done they join the memory; SLAKE's validation split is a separate file and stays out of it.
        """
        if net.memory is not None:
            self.fill_memory(net, self.train)
        metrics = self.calibrate(net)
        if net.memory is not None:
            self.config.extra["memory"].setdefault("settings", MemorySettings().to_dict())
            self.fill_memory(net, self.train + [r for r in self.val if r.source == "vqa_rad"])
        return metrics


def _summary(trainer: Trainer, metrics: dict[str, object]) -> dict[str, object]:
    extra = trainer.config.extra
    return {**metrics, "temperature": extra["temperature"], "abstain_threshold": extra["abstain_threshold"],
            "prior_power": extra["prior_power"]}


def recalibrate(opts: VQAConfig, bundle: Path) -> Path:
    """Re-fit prior strength, temperature and threshold of a bundle on the validation data of ``opts``.

    The bundle must have been trained on the same data (same vocabulary and answers); the network
    is unchanged. The result is written to ``opts.out``.
    """
    torch.set_num_threads(opts.threads)
    train_records, val_records = load_records(opts)
    trainer = Trainer(opts, train_records, val_records)
    loaded = load_bundle(bundle, network_from_config)
    if loaded.config.extra["answers"] != trainer.answers or loaded.config.extra["vocabulary"] != trainer.vocab.words:
        raise ValueError(f"The bundle at {bundle} was trained on other data than given.")
    loaded.config.extra.setdefault("prior_power", 1.0)
    loaded.config.extra.pop("memory", None)
    loaded.config.params["memory"] = opts.memory
    net = cast(VQANet, network_from_config(loaded.config))
    weights = {k: v for k, v in loaded.network.state_dict().items() if not k.startswith("memory.")}
    missing = net.load_state_dict(weights, strict=False).missing_keys
    if any(not key.startswith("memory.") for key in missing):
        raise ValueError(f"The bundle at {bundle} lacks weights: {', '.join(missing)}.")
    trainer.config = loaded.config
    metrics = trainer.finish(net.eval())
    loaded.config.metrics.update(_summary(trainer, metrics))
    return save_bundle(net, loaded.config, opts.out)


def train(opts: VQAConfig) -> Path:
    """Run the whole pipeline and write the bundle to ``opts.out``; returns the bundle folder."""
    started = time.time()
    seed_everything(opts.seed, opts.threads)
    train_records, val_records = load_records(opts)
    trainer = Trainer(opts, train_records, val_records)
    net = create_network(opts, len(trainer.vocab), len(trainer.answers))
    pretrain_losses: list[float] = []
    if opts.pretrain_epochs > 0:
        paths = find_images(opts.pretrain_dirs) + sorted(trainer.path_index)
        stack = load_image_stack(paths, opts.image_size, opts.cache_dir)
        pretrain_losses = pretrain_autoencoder(net.image.dae, stack, opts.pretrain_epochs, opts.seed)
    net, log = trainer.fit(net)
    metrics = trainer.finish(net)
    metrics.update({
        "epochs": log, "pretrain_mse": [round(x, 5) for x in pretrain_losses],
        "train_questions": len(train_records), "val_questions": len(val_records),
        "train_seconds": round(time.time() - started, 1),
    })
    trainer.config.metrics = _summary(trainer, metrics)
    return save_bundle(net, trainer.config, opts.out)
