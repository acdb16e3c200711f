"""Lesion side and size from the outline, on files and on photos of a screen (issues 17 and 18).

For every ``lgg_mri`` slice of a split that shows a lesion, the committed segmenter outlines the slice file and
the same slice photographed off a screen (the ROBUSTNESS distortions, one seed per slice) and cropped by the
committed screen finder, as the assistant's intake does. Printed as JSON:

- ``side_right``: share of slices where the side the assistant would state (:func:`lesion_side`) equals the
  side of the true mask, for files and for photos;
- ``lesion_found``: share where the outline is not empty;
- ``fraction_error_median``: median absolute difference between the outlined and the true lesion fraction of the
  brain (files only: a photo's crop is not pixel-aligned with the mask).

``python bench/lesion_side_report.py --data ../shared/data/lgg_mri --split val`` (about two minutes on 2 cores).
``--bundle`` scores another segmentation bundle; ``--tuning-patients-of BUNDLE`` keeps only the ``train``
patients that bundle held out to tune its post-processing (to choose between bundles without touching ``val``).
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from qaid.state import REPO_ROOT
from vision_models.data import read_slices
from vision_models.imaging import load_image, to_grayscale_array
from vision_models.screen_crop import ScreenCropper
from vision_models.screen_photos import ROBUSTNESS_SEED, screen_photo_bytes
from vision_models.segmentation import Segmenter
from vision_models.segmentation.config import DEFAULT_BUNDLE
from vision_models.segmentation.model import lesion_side


def main() -> None:
    """Score the split and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "lgg_mri")
    parser.add_argument("--split", default="val")
    parser.add_argument("--bundle", default=str(DEFAULT_BUNDLE), help="segmentation bundle to score")
    parser.add_argument("--tuning-patients-of", help="score only the tuning patients of this bundle (in train)")
    args = parser.parse_args()
    segmenter, finder = Segmenter.load(args.bundle), ScreenCropper.load()
    slices = [s for s in read_slices(args.data, args.split) if s.tumour_pixels > 0]
    if args.tuning_patients_of:
        extra = json.loads((Path(args.tuning_patients_of) / "config.json").read_text())["extra"]
        patients = set(extra.get("tuning", {}).get("patients", []))
        slices = [s for s in slices if s.patient in patients]
    if not slices:
        parser.error(f"no slice with a lesion to score in split {args.split!r}"
                     + (" among those tuning patients (they are in train)" if args.tuning_patients_of else ""))
    right = {"files": [], "photos": []}
    found = {"files": [], "photos": []}
    fraction_errors = []
    for index, item in enumerate(tqdm(slices, desc="slices", unit="slice")):
        image = load_image(item.image)
        truth = np.asarray(Image.open(item.mask).convert("L")) > 127
        brain = (to_grayscale_array(image) > segmenter.brain_threshold) | truth
        true_side = lesion_side(truth, brain)
        on_file = segmenter.predict(image)
        photo = screen_photo_bytes(item.image, ROBUSTNESS_SEED + index)
        cropped, _ = finder.crop(Image.open(io.BytesIO(photo)))
        on_photo = segmenter.predict(cropped)
        for kind, result in (("files", on_file), ("photos", on_photo)):
            right[kind].append(result.lesion_side == true_side)
            found[kind].append(result.lesion_pixels > 0)
        fraction_errors.append(abs(on_file.lesion_fraction - truth.sum() / max(int(brain.sum()), 1)))
    print(json.dumps({
        "split": args.split, "bundle": args.bundle, "tuning_patients_of": args.tuning_patients_of,
        "slices_with_a_lesion": len(slices),
        "side_right": {kind: round(float(np.mean(values)), 4) for kind, values in right.items()},
        "lesion_found": {kind: round(float(np.mean(values)), 4) for kind, values in found.items()},
        "fraction_error_median": {"files": round(float(np.median(fraction_errors)), 4)},
    }, indent=2))


if __name__ == "__main__":
    main()
