"""Synthetic documents, screenshots and text photos: the prefilter's hardest negatives, generated (seeded).

Patients often send what is not a scan: a photo of a radiology report, a screenshot of a letter, of a chat or of
a web page, a lab-results table. No public set in ``../shared/data`` has them, so :func:`document_image` draws
them with Pillow's text and shape primitives: a page (letter or report), a results table, a chat screenshot,
a web page or app screen, and light-on-dark text (a dark-mode screenshot, the hardest case: grey on black like
an X-ray). Words come from :data:`WORDS`, layouts and colours from a seeded generator, so one seed always gives
the same image. The training and validation sets use disjoint seed ranges (:func:`document_set`); the
screen-photo augmentation then turns half of the training ones into photos of a screen as well.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

KINDS = ("page", "table", "chat", "web", "dark_text")
SPLIT_SEEDS = {"train": 1_000_000, "val": 2_000_000}
WORDS = (
    "patient report findings impression clinical history examination technique comparison the of and no is are "
    "with without normal within limits left right bilateral lung heart size mediastinum pleural effusion seen "
    "noted mild moderate dose date name hospital number referral doctor appointment please contact results "
    "reference range units blood count sodium potassium glucose creatinine haemoglobin white cells platelets "
    "follow up recommended signed radiologist department imaging we your our letter dear regards sincerely "
    "today tomorrow meeting message sent delivered thanks okay see you at monday friday order total page home "
    "search menu settings account login help news weather price shop cart account privacy terms about contact"
).split()

Rgb = tuple[int, int, int]


def _font(rng: np.random.Generator, low: int, high: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=int(rng.integers(low, high + 1)))


def _words(rng: np.random.Generator, count: int) -> str:
    return " ".join(rng.choice(WORDS, size=count).tolist())


def _ink(rng: np.random.Generator, dark: bool) -> Rgb:
    level = int(rng.integers(0, 70)) if dark else int(rng.integers(185, 256))
    tint = rng.integers(-15, 16, size=3)
    return tuple(int(np.clip(level + t, 0, 255)) for t in tint)  # type: ignore[return-value]


def _colour(rng: np.random.Generator) -> Rgb:
    return tuple(int(v) for v in rng.integers(0, 256, size=3))  # type: ignore[return-value]


def _text_lines(draw: ImageDraw.ImageDraw, rng: np.random.Generator, box: tuple[int, int, int, int], ink: Rgb,
                size: tuple[int, int]) -> None:
    """Fill ``box`` (left, top, right, bottom) with ragged lines of words, paragraph breaks included."""
    left, top, right, bottom = box
    font = _font(rng, *size)
    step = int(font.size * rng.uniform(1.2, 1.7)) if hasattr(font, "size") else 12
    y = top
    while y + step <= bottom:
        if rng.random() < 0.12:
            y += step
            continue
        line = _words(rng, int(rng.integers(3, 14)))
        while line and draw.textlength(line, font=font) > right - left:
            line = line.rsplit(" ", 1)[0] if " " in line else ""
        draw.text((left, y), line, fill=ink, font=font)
        y += step


def _page(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    paper = _ink(rng, dark=False)
    image = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(image)
    margin = int(width * rng.uniform(0.05, 0.12))
    ink = _ink(rng, dark=True)
    if rng.random() < 0.6:  # a letterhead: a coloured bar or a bold title
        bar = int(height * rng.uniform(0.04, 0.1))
        draw.rectangle((0, 0, width, bar), fill=_colour(rng))
    title = _font(rng, 16, 26)
    draw.text((margin, int(height * 0.1)), _words(rng, 3).upper(), fill=ink, font=title)
    _text_lines(draw, rng, (margin, int(height * 0.2), width - margin, height - margin), ink, (9, 15))
    return image


def _table(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), _ink(rng, dark=False))
    draw = ImageDraw.Draw(image)
    ink, rule = _ink(rng, dark=True), _ink(rng, dark=True)
    font = _font(rng, 9, 14)
    rows, cols = int(rng.integers(8, 22)), int(rng.integers(3, 6))
    top = int(height * rng.uniform(0.08, 0.2))
    row_h = (height - top - 10) / rows
    col_w = (width - 20) / cols
    if rng.random() < 0.5:
        draw.rectangle((10, top, width - 10, top + row_h), fill=_colour(rng))
    for r in range(rows + 1):
        draw.line((10, top + r * row_h, width - 10, top + r * row_h), fill=rule, width=1)
    for r in range(rows):
        for c in range(cols):
            cell = _words(rng, 1) if c == 0 or r == 0 else f"{rng.uniform(0, 200):.1f}"
            draw.text((14 + c * col_w, top + r * row_h + 2), cell, fill=ink, font=font)
    return image


def _chat(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    dark = rng.random() < 0.3
    image = Image.new("RGB", (width, height), _ink(rng, dark=dark))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, int(height * 0.08)), fill=_colour(rng))
    font = _font(rng, 9, 14)
    mine, theirs = _colour(rng), _ink(rng, dark=not dark)
    y = int(height * 0.1)
    while y < height - 30:
        lines = int(rng.integers(1, 4))
        bubble_h = int(lines * (font.size + 4) + 8) if hasattr(font, "size") else lines * 16
        bubble_w = int(width * rng.uniform(0.35, 0.75))
        left = width - bubble_w - 8 if rng.random() < 0.5 else 8
        fill = mine if left > 8 else theirs
        draw.rounded_rectangle((left, y, left + bubble_w, y + bubble_h), radius=8, fill=fill)
        _text_lines(draw, rng, (left + 6, y + 4, left + bubble_w - 6, y + bubble_h), _ink(rng, dark=not dark),
                    (9, 13))
        y += bubble_h + int(rng.integers(4, 14))
    return image


def _web(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), _ink(rng, dark=False))
    draw = ImageDraw.Draw(image)
    header = int(height * rng.uniform(0.06, 0.14))
    draw.rectangle((0, 0, width, header), fill=_colour(rng))
    sidebar = int(width * rng.uniform(0.0, 0.3))
    if sidebar:
        draw.rectangle((0, header, sidebar, height), fill=_ink(rng, dark=False))
    for _ in range(int(rng.integers(0, 4))):  # buttons and picture blocks
        x0, y0 = int(rng.integers(sidebar, width - 40)), int(rng.integers(header, height - 30))
        draw.rectangle((x0, y0, x0 + int(rng.integers(30, 120)), y0 + int(rng.integers(15, 60))), fill=_colour(rng))
    _text_lines(draw, rng, (sidebar + 10, header + 10, width - 10, height - 10), _ink(rng, dark=True), (9, 16))
    return image


def _dark_text(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), _ink(rng, dark=True))
    draw = ImageDraw.Draw(image)
    margin = int(width * rng.uniform(0.04, 0.1))
    _text_lines(draw, rng, (margin, margin, width - margin, height - margin), _ink(rng, dark=False), (9, 16))
    return image


_DRAW: dict[str, Callable[[np.random.Generator, int, int], Image.Image]] = {
    "page": _page, "table": _table, "chat": _chat, "web": _web, "dark_text": _dark_text,
}


def document_image(seed: int) -> Image.Image:
    """One synthetic document, screenshot or text image (kind, size and content drawn from ``seed``)."""
    rng = np.random.default_rng(seed)
    kind = KINDS[seed % len(KINDS)]
    width = int(rng.integers(160, 320))
    aspect = rng.uniform(1.2, 2.0) if kind in ("page", "chat") else rng.uniform(0.6, 1.5)
    return _DRAW[kind](rng, width, int(width * aspect))


def document_set(split: str, count: int) -> list[Image.Image]:
    """``count`` documents of ``split`` (``train`` or ``val``: disjoint seeds), every kind equally often."""
    start = SPLIT_SEEDS[split]
    return [document_image(start + index) for index in range(count)]
