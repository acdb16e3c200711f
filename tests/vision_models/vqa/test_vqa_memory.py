"""Case memory: fingerprints, the memory distribution, its storage in the bundle, and the sentence encoder."""

from pathlib import Path

import pytest
import torch

from vision_models.bundle import read_config
from vision_models.vqa import VQAModel
from vision_models.vqa.data import read_split
from vision_models.vqa.memory import CaseMemory, MemorySettings, fingerprints, mix_with_memory
from vision_models.vqa.sentence import EncoderError, SentenceEncoder, encoder_for, resolve_folder

SETTINGS = MemorySettings(sharpness=8.0, strength=1.0, width=0.05)


def _images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 64, 64, generator=torch.Generator().manual_seed(seed))


def _memory() -> CaseMemory:
    """Two images; image 0 has a CLOSED case (answer 1) and an OPEN case (answer 2), image 1 an OPEN one (3)."""
    memory = CaseMemory()
    questions = torch.eye(3, 8)
    memory.fill(image_keys=fingerprints(_images(2)), case_image=torch.tensor([0, 0, 1]), case_questions=questions,
                case_answers=torch.tensor([1, 2, 3]), case_closed=torch.tensor([True, False, False]))
    return memory


def test_fingerprints_ignore_brightness_and_contrast_but_tell_images_apart() -> None:
    images = _images(2)
    keys = fingerprints(torch.cat([images, 0.5 * images + 0.2]))
    similarity = keys @ keys.T
    assert torch.allclose(similarity[0, 2], torch.tensor(1.0), atol=1e-4)
    assert float(similarity[0, 1]) < 0.5
    assert torch.allclose(keys.norm(dim=1), torch.ones(4), atol=1e-5)


def test_same_image_and_question_gives_the_stored_answer() -> None:
    memory = _memory()
    keys = fingerprints(_images(2))
    support = torch.ones(2, 5, dtype=torch.bool)
    probs, weight = memory.distribution(keys[[0, 0]], torch.eye(3, 8)[[1, 0]], torch.tensor([0.0, 1.0]),
                                        support, SETTINGS)
    assert int(probs[0].argmax()) == 2 and int(probs[1].argmax()) == 1
    assert torch.allclose(probs.sum(dim=1), torch.ones(2))
    assert torch.allclose(weight, torch.ones(2), atol=1e-4)


def test_unknown_image_or_other_answer_type_leaves_the_network_alone() -> None:
    memory = _memory()
    stranger = fingerprints(_images(1, seed=5))
    support = torch.ones(1, 5, dtype=torch.bool)
    _, weight = memory.distribution(stranger, torch.eye(3, 8)[[1]], torch.tensor([0.0]), support, SETTINGS)
    assert float(weight[0]) == 0.0
    own = fingerprints(_images(2))[[1]]
    _, closed_weight = memory.distribution(own, torch.eye(3, 8)[[2]], torch.tensor([1.0]), support, SETTINGS)
    assert float(closed_weight[0]) == 0.0  # image 1 only has an OPEN case


def test_memory_respects_the_prior_support() -> None:
    memory = _memory()
    key = fingerprints(_images(2))[[0]]
    support = torch.ones(1, 5, dtype=torch.bool)
    support[0, 2] = False
    probs, weight = memory.distribution(key, torch.eye(3, 8)[[1]], torch.tensor([0.0]), support, SETTINGS)
    assert float(probs[0, 2]) == 0.0 and float(weight[0]) == 0.0
    network = torch.tensor([[0.1, 0.2, 0.0, 0.3, 0.4]])
    mixed = mix_with_memory(network, probs, weight)
    assert torch.equal(mixed, network)


def test_memory_state_dict_round_trip_takes_the_stored_shapes() -> None:
    memory = _memory()
    empty = CaseMemory()
    empty.load_state_dict(memory.state_dict())
    assert len(empty) == 3
    assert torch.equal(empty.case_answers, memory.case_answers)
    with pytest.raises(ValueError, match="answer type"):
        CaseMemory().fill(fingerprints(_images(1)), torch.tensor([0, 0]), torch.eye(2, 4), torch.tensor([1]),
                          torch.tensor([True, False]))


def test_sentence_encoder_embeds_caches_and_verifies(sentence_encoder_dir: Path, tmp_path: Path) -> None:
    encoder = SentenceEncoder(str(sentence_encoder_dir))
    vectors = encoder.encode(["Is there a mass?", "What organ is shown?", "Is there a mass?"])
    assert vectors.shape == (3, encoder.dim)
    assert torch.allclose(vectors.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.equal(vectors[0], vectors[2]) and not torch.allclose(vectors[0], vectors[1])
    assert encoder_for(encoder.describe()).sha256 == encoder.sha256
    with pytest.raises(EncoderError, match="not the one"):
        encoder_for({"source": str(sentence_encoder_dir), "sha256": "0" * 64})
    with pytest.raises(EncoderError, match="missing"):
        resolve_folder(str(tmp_path))
    with pytest.raises(EncoderError, match="not installed"):
        resolve_folder("package:no_such_encoder_package")


def test_bundle_stores_the_memory_and_answers_training_questions(
    memory_bundle_dir: Path, rad_folder: Path, slake_folder: Path, sentence_encoder_dir: Path
) -> None:
    config = read_config(memory_bundle_dir)
    memory = config.extra["memory"]
    assert memory["includes_vqa_rad_val"] and memory["sentence_encoder"]["source"] == str(sentence_encoder_dir)
    assert set(memory["settings"]) == {"sharpness", "strength", "width"}
    assert {"val_accuracy_by_memory_setting", "val_accuracy_by_prior_power_with_memory"} <= config.metrics.keys()
    official_training = read_split(rad_folder, "train_all") + read_split(slake_folder, "train")
    assert memory["cases"] == len(official_training)  # SLAKE's validation file stays out of the memory
    model = VQAModel.load(memory_bundle_dir)
    assert model.uses_memory and len(model.net.memory) == memory["cases"]
    records = read_split(rad_folder, "train")
    model.memory_settings = MemorySettings(sharpness=64.0, strength=1.0, width=0.05)  # the exact case decides
    answers = model.answer_batch([r.image for r in records], [r.question for r in records])
    assert [a.answer for a in answers] == [r.answer for r in records]
    pixels = torch.stack([model.pixels(r.image) for r in records])
    without, _ = model.score(pixels, torch.arange(len(records)), [r.question for r in records], use_memory=False)
    network_answers = [model.answers[int(i)] for i in without.argmax(dim=1)]
    assert network_answers != [r.answer for r in records]  # the tiny network alone gets some wrong


def test_questions_about_unknown_images_are_not_encoded(
    memory_bundle_dir: Path, rad_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = VQAModel.load(memory_bundle_dir)
    encoded: list[list[str]] = []
    original = model.sentences.encode
    monkeypatch.setattr(model.sentences, "encode", lambda texts: encoded.append(list(texts)) or original(texts))
    stranger = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(99))
    model.score(stranger, torch.zeros(1, dtype=torch.long), ["Is there a mass?"])
    assert encoded == []
    known = read_split(rad_folder, "train")[0]
    model.answer(known.image, known.question)
    assert encoded == [[known.question]]
