"""Tiny generated VQA-RAD and SLAKE style folders and a bundle trained on them (no shared data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vision_models.vqa.config import VQAConfig
from vision_models.vqa.training import train

RAD_QUESTIONS = [
    ("Is there a mass?", "Yes", "CLOSED", "PRES"),
    ("Is there a fracture?", "no", "CLOSED", "PRES"),
    ("Where is the lesion?", "Left lung", "OPEN", "POS, PRES"),
    ("What modality is this?", "CT", "OPEN", "MODALITY"),
    ("In which plane is this image taken?", "Axial", "OPEN", "PLANE"),
    ("Is this image normal?", "No", "CLOSED", "ABN"),
    ("What organ is shown?", "the brain", "OPEN", "ORGAN"),
    ("How many masses are there?", 2, "OPEN", "COUNT"),
]


def _write_image(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8), mode="L").save(path)


def make_rad_folder(root: Path, n_images: int = 4) -> Path:
    """A VQA-RAD layout folder: every image gets every question of :data:`RAD_QUESTIONS`."""
    records, qid = [], 0
    for i in range(n_images):
        name = f"synpic{i}.png"
        _write_image(root / "images" / name, i)
        for question, answer, answer_type, qtype in RAD_QUESTIONS:
            qid += 1
            records.append({"qid": qid, "image_name": name, "image_organ": "HEAD", "answer": answer,
                            "answer_type": answer_type, "question_type": qtype, "question": question,
                            "phrase_type": "freeform"})
    (root / "trainset.json").write_text(json.dumps(records))
    (root / "testset.json").write_text(json.dumps(records[:6]))
    return root


def make_slake_folder(root: Path) -> Path:
    """A SLAKE layout folder with two training images and one validation image."""
    def entry(i: int) -> dict:
        _write_image(root / "imgs" / f"xmlab{i}" / "source.jpg", 100 + i)
        return {"image_id": f"xmlab{i}/source.jpg", "questions": [
            {"question": "What modality is used to take this image?", "answer": "MRI", "answer_type": "OPEN",
             "caption": "", "bbox": None},
            {"question": "Does the picture contain liver?", "answer": "Yes", "answer_type": "CLOSED",
             "caption": "", "bbox": None},
            {"question": "Which part of the body does this image belong to?", "answer": "Abdomen",
             "answer_type": "OPEN", "caption": "", "bbox": None},
        ]}
    (root / "train.json").write_text(json.dumps([entry(0), entry(1)]))
    (root / "validate.json").write_text(json.dumps([entry(2)]))
    return root


@pytest.fixture(scope="session")
def rad_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_rad_folder(tmp_path_factory.mktemp("vqa_rad"))


@pytest.fixture(scope="session")
def slake_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_slake_folder(tmp_path_factory.mktemp("slake"))


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory, rad_folder: Path, slake_folder: Path) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "vqa_tiny"
    opts = VQAConfig(out=out, name="vqa_tiny", vqa_rad=rad_folder, slake=slake_folder,
                        pretrain_dirs=[rad_folder / "images"], image_size=32, epochs=2, pretrain_epochs=1,
                        batch_questions=16, embed_dim=16, hidden=16)
    return train(opts)


def make_sentence_encoder(folder: Path) -> Path:
    """A tiny random BERT model folder (tokenizer + safetensors) standing in for all-MiniLM-L6-v2."""
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "?"]
    for question, *_ in RAD_QUESTIONS:
        words += [w for w in question.lower().rstrip("?").split() if w not in words]
    BertTokenizer(vocab={w: i for i, w in enumerate(words)}).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def sentence_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sentence_encoder(tmp_path_factory.mktemp("encoder") / "tiny_bert")


@pytest.fixture(scope="session")
def memory_bundle_dir(
    tmp_path_factory: pytest.TempPathFactory, rad_folder: Path, slake_folder: Path, sentence_encoder_dir: Path
) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "vqa_memory"
    opts = VQAConfig(out=out, name="vqa_memory", vqa_rad=rad_folder, slake=slake_folder, pretrain_dirs=[],
                        image_size=32, epochs=12, pretrain_epochs=0, lr=0.01, batch_questions=16, embed_dim=16,
                        hidden=16,
                        memory=True, sentence_encoder=str(sentence_encoder_dir))
    return train(opts)
