"""Placing a patient: a typed city name or a shared location becomes coordinates."""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

import yaml

CITIES_FILE = Path(__file__).with_name("cities.yml")


@lru_cache(maxsize=1)
def cities() -> dict[str, tuple[float, float]]:
    """City name -> (latitude, longitude), from ``actions/cities.yml``."""
    data = yaml.safe_load(CITIES_FILE.read_text(encoding="utf-8")) or {}
    return {str(name): (float(lat), float(lon)) for name, (lat, lon) in data.items()}


def find_city(text: str) -> tuple[str, float, float] | None:
    """The city named in ``text`` (exact word or close spelling) with its coordinates, or None."""
    known = cities()
    lowered = {name.lower(): name for name in known}
    cleaned = text.lower().strip(" .!?,")
    for key, name in lowered.items():
        if key == cleaned or f" {key} " in f" {cleaned} ":
            return name, *known[name]
    words = cleaned.split()
    candidates = words + [" ".join(pair) for pair in zip(words, words[1:])]
    for candidate in candidates:
        match = difflib.get_close_matches(candidate, list(lowered), n=1, cutoff=0.85)
        if match:
            name = lowered[match[0]]
            return name, *known[name]
    return None
