"""Question tokenisation, the word vocabulary and answer normalisation.

Answer normalisation (applied to training answers, to ground truth and to predictions alike, so
evaluation is exact match after normalisation):

1. convert to text (VQA-RAD stores a few answers as JSON numbers), Unicode NFKC, lower case;
2. trim whitespace and the punctuation ``. , ; : ! ? " '`` at both ends, collapse inner whitespace;
3. drop one leading article (``a``, ``an``, ``the``);
4. spell-out numbers ``zero`` … ``ten`` become digits when they are the whole answer;
5. the spellings ``xray``, ``x ray`` and ``x-ray`` all become ``x-ray``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

PAD, UNK = "<pad>", "<unk>"
_EDGE_PUNCT = " \t\n.,;:!?\"'"
_ARTICLES = ("a ", "an ", "the ")
_NUMBERS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
_XRAY = re.compile(r"\bx[\s-]?ray")
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# British spellings of the words the training questions (VQA-RAD, SLAKE) spell the American way, at a word's start
# only ("azygoesophageal" stays). Found chatting: "is there a tumour?" got "No (60%)" and "is there a tumor?"
# "Yes (56%)" on the same MRI, "tumour" being an unknown word to the model. No training or evaluation question
# has one of these spellings, so no figure of the card changes.
_AMERICAN = {"tumour": "tumor", "oedema": "edema", "haem": "hem", "oesophag": "esophag", "anaem": "anem",
             "colour": "color", "ischaem": "ischem", "paediatr": "pediatr", "leukaem": "leukem", "foet": "fet",
             "oestr": "estr", "orthopaed": "orthoped"}
_BRITISH = re.compile(r"\b(" + "|".join(_AMERICAN) + ")")


def normalise_answer(answer: object) -> str:
    """Return the canonical form of an answer (see the module docstring for the rules)."""
    text = unicodedata.normalize("NFKC", str(answer)).lower()
    text = " ".join(text.split()).strip(_EDGE_PUNCT)
    for article in _ARTICLES:
        if text.startswith(article):
            text = text[len(article):]
            break
    text = _NUMBERS.get(text, text)
    return _XRAY.sub("x-ray", text).strip(_EDGE_PUNCT)


def tokenize(question: str) -> list[str]:
    """Lower-case word tokens of a question (letters, digits, inner hyphens and apostrophes), British spellings
    made American (:data:`_AMERICAN`)."""
    text = _XRAY.sub("x-ray", unicodedata.normalize("NFKC", question).lower())
    text = _BRITISH.sub(lambda match: _AMERICAN[match.group(1)], text)
    return _TOKEN.findall(text)


class Vocabulary:
    """A word-to-index map with index 0 for padding and 1 for unknown words."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words: list[str] = [PAD, UNK] + [w for w in words if w not in (PAD, UNK)]
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, questions: Iterable[str], min_count: int = 1) -> Vocabulary:
        """Vocabulary of the words that occur at least ``min_count`` times, most frequent first."""
        counts: dict[str, int] = {}
        for question in questions:
            for token in tokenize(question):
                counts[token] = counts.get(token, 0) + 1
        ordered = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(ordered)

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, question: str, max_tokens: int) -> list[int]:
        """Token indices of ``question`` truncated to ``max_tokens`` (at least one token, ``<unk>`` if empty)."""
        ids = [self.index.get(t, 1) for t in tokenize(question)][:max_tokens]
        return ids or [1]
