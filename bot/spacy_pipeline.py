"""Build the project's own spaCy pipeline: blank English + an entity ruler (no model download).

Usage::

    python -m bot.spacy_pipeline build --out build/spacy_qaid [--patterns bot/patterns/entities.yml]

Rasa's ``SpacyNLP`` loads the saved folder (``model: build/spacy_qaid``); ``SpacyEntityExtractor`` then reports the
ruler's entities (body_part, modality, symptom, duration, severity, side). A phrase match carries its canonical value
in spaCy's ``ent_id_`` (e.g. "cat scan" -> "CT"), which :mod:`bot.entities` uses as the entity value.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, cast

import spacy
import yaml
from spacy.language import Language
from spacy.pipeline import EntityRuler

DEFAULT_PATTERNS = Path(__file__).parent / "patterns" / "entities.yml"
RULER_NAME = "qaid_entity_ruler"


class PatternError(ValueError):
    """The pattern file is malformed."""


def load_patterns(path: Path = DEFAULT_PATTERNS) -> list[dict[str, Any]]:
    """Read the YAML pattern file into spaCy entity-ruler patterns ({label, pattern, id (canonical value)})."""
    try:
        content = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise PatternError(f"cannot read patterns from {path}: {error}") from error
    patterns: list[dict[str, Any]] = []
    for label, values in (content.get("phrases") or {}).items():
        for canonical, forms in values.items():
            if not isinstance(forms, list) or not all(isinstance(form, str) for form in forms):
                raise PatternError(f"{path}: phrases.{label}.{canonical} must be a list of strings")
            patterns.extend({"label": label, "pattern": form, "id": str(canonical)} for form in forms)
    for label, entries in (content.get("tokens") or {}).items():
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("pattern"), list):
                raise PatternError(f"{path}: tokens.{label} entries need a list 'pattern'")
            _check_token_values(entry["pattern"], f"{path}: tokens.{label}")
            pattern = {"label": label, "pattern": entry["pattern"]}
            if "id" in entry:
                pattern["id"] = str(entry["id"])
            patterns.append(pattern)
    if not patterns:
        raise PatternError(f"{path} defines no patterns")
    return patterns


def _check_token_values(pattern: list[Any], where: str) -> None:
    """Refuse ``IN``/``NOT_IN`` lists with non-string items: YAML reads bare on/off/yes/no as booleans."""
    for token in pattern:
        for attribute in token.values() if isinstance(token, dict) else ():
            if not isinstance(attribute, dict):
                continue
            for key in ("IN", "NOT_IN"):
                odd = [value for value in attribute.get(key, []) if not isinstance(value, str)]
                if odd:
                    raise PatternError(f"{where}: {key} list holds {odd}; quote words such as \"on\" or \"no\" "
                                       "(YAML reads them bare as booleans)")


def build_pipeline(patterns: list[dict[str, Any]]) -> Language:
    """Blank English pipeline with a case-insensitive entity ruler holding ``patterns``."""
    nlp = spacy.blank("en")
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", name=RULER_NAME, config={"phrase_matcher_attr": "LOWER"}))
    ruler.add_patterns(patterns)
    nlp.meta["name"] = "qaid_entities"
    nlp.meta["description"] = "Q&Aid: blank English + entity ruler built from bot/patterns/entities.yml"
    return nlp


def build(out_dir: Path, patterns_path: Path = DEFAULT_PATTERNS) -> Path:
    """Build the pipeline from ``patterns_path`` and save it to ``out_dir``; returns ``out_dir``."""
    nlp = build_pipeline(load_patterns(patterns_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``build`` sub-command)."""
    parser = argparse.ArgumentParser(prog="python -m bot.spacy_pipeline", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build and save the spaCy pipeline")
    build_parser.add_argument("--out", type=Path, required=True, help="output folder, e.g. build/spacy_qaid")
    build_parser.add_argument("--patterns", type=Path, default=DEFAULT_PATTERNS, help="entity pattern YAML file")
    args = parser.parse_args(argv)
    try:
        out = build(args.out, args.patterns)
    except PatternError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"spaCy pipeline saved to {out} ({len(load_patterns(args.patterns))} patterns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
