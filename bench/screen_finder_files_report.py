"""How often the screen finder takes a plain file for a photo of a screen, and what the "fills the photo" rule costs.

Found chatting (issue 17): a MedPix chest radiograph from VQA-RAD, sent as a file, got "I found the scan on the
screen in your photo and straightened it". The finder's corners for such files lie at the photo's own corners, so
:data:`vision_models.screen_crop.model.FILLS_PHOTO_MARGIN` treats a quadrilateral that close to the whole photo as
nothing to crop. This report counts, for each set, how many images the finder's probability alone calls a screen
(``fired``) and how many of those the rule leaves as sent (``fills_photo``):

- ``vqa_rad_files``: VQA-RAD images as sent (files a patient may download), a seeded sample;
- ``train_files``: ``modality/`` and ``nonmedical/`` ``train`` images as sent;
- ``train_photos_robustness`` / ``train_photos_training``: the same images photographed off a simulated screen
  (:mod:`vision_models.screen_photos`, ROBUSTNESS and TRAINING ranges, one seed per image).

``python bench/screen_finder_files_report.py --data ../shared/data`` (about a minute on 2 cores). ``val`` is not
read.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

from vision_models.data import read_splits, select_split
from vision_models.imaging import ImageSource
from vision_models.screen_crop import ScreenCropper
from vision_models.screen_crop.model import FILLS_PHOTO_MARGIN, fills_photo
from vision_models.screen_photos import ROBUSTNESS, TRAINING, screen_photo

SEED = 20261207


def count(cropper: ScreenCropper, images: Sequence[ImageSource]) -> dict[str, int]:
    """How many of ``images`` the finder's probability calls a screen, and how many of those fill the photo."""
    fired = fills = 0
    for image in images:
        finding = cropper.find_batch([image])[0]
        if finding.probability >= cropper.threshold:
            fired += 1
            fills += fills_photo(torch.tensor(finding.corners))
    return {"n": len(images), "fired": fired, "fills_photo": fills}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--vqa-images", type=int, default=315)
    parser.add_argument("--train-images", type=int, default=400)
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    vqa = sorted((args.data / "vqa_rad" / "images").glob("*.jpg"))
    rng.shuffle(vqa)
    train = [sample.path for folder in ("modality", "nonmedical")
             for sample in select_split(read_splits(args.data / folder), "train")]
    rng.shuffle(train)
    files = [Image.open(path).convert("RGB") for path in train[:args.train_images]]
    cropper = ScreenCropper.load()
    report = {"fills_photo_margin": FILLS_PHOTO_MARGIN,
              "vqa_rad_files": count(cropper, [Image.open(p).convert("RGB") for p in vqa[:args.vqa_images]]),
              "train_files": count(cropper, files)}
    for name, params in (("train_photos_robustness", ROBUSTNESS), ("train_photos_training", TRAINING)):
        report[name] = count(cropper, [screen_photo(image, seed=i, params=params)[0] for i, image in enumerate(files)])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
