"""Entity post-processing in the Rasa NLU pipeline: merging extractors' entities and marking negated symptoms.

* :class:`EntityMerger` (after the CRF, SpacyEntityExtractor and EntitySynonymMapper) keeps one entity per span:
  the preferred extractor's (by default the spaCy entity ruler) wherever it found one, the CRF's elsewhere (except
  for the configured ``exclusive_types`` and for spans of function words only, such as "and" or "'s"), and gives
  ruler entities their canonical value (spaCy ``ent_id_``, e.g. "cat scan" -> "CT").
* :class:`NegationMarker` (after the merger) sets ``role: negated`` on symptoms that the patient denies
  ("no fever", "I don't have chest pain"), using the cue lists in ``bot/patterns/negation.yml``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from spacy.lang.en.lex_attrs import like_num
from spacy.lang.en.stop_words import STOP_WORDS

DEFAULT_NEGATION_FILE = Path(__file__).parent / "patterns" / "negation.yml"
SPACY_EXTRACTOR = "SpacyEntityExtractor"
_PROCESSORS = "processors"
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[.;!?]")
_WORD = re.compile(r"'?\w+")  # "it's" -> "it", "'s"


def _overlaps(first: dict[str, Any], second: dict[str, Any]) -> bool:
    return first[ENTITY_ATTRIBUTE_START] < second[ENTITY_ATTRIBUTE_END] and \
        second[ENTITY_ATTRIBUTE_START] < first[ENTITY_ATTRIBUTE_END]


def has_content_word(text: str) -> bool:
    """Whether ``text`` holds a word that is neither an English stop word nor punctuation; numbers count as
    content ("twenty"). A statistical extractor trained on a few hundred examples (DIET did) may tag "and",
    "keep" or "'s"."""
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    return any(like_num(word) or word not in STOP_WORDS for word in words)


def merge_entities(entities: list[dict[str, Any]], preferred_extractor: str = SPACY_EXTRACTOR,
                   processor_name: str = "EntityMerger",
                   exclusive_types: Collection[str] = ()) -> list[dict[str, Any]]:
    """One entity per span, trusting the ``preferred_extractor``; result sorted by start offset.

    The preferred extractor (the curated spaCy entity ruler) has exact spans, so its entities are all kept, the
    longer one winning where two of the same type overlap. Another extractor's entity (the CRF's) is dropped when
    it overlaps a preferred entity of any type (a statistical extractor's span boundaries and types are noisy where
    the ruler has an answer: DIET gave "vomiting and", "stomach" as a symptom), when its type is one of
    ``exclusive_types``, the types only the preferred extractor is trusted on, or when its value has no content
    word (:func:`has_content_word`). The remaining entities of other extractors compete among themselves (longer
    span wins, the earlier on equal length). A kept entity records ``processor_name`` in its ``processors`` list
    for every entity it absorbed. Entities of different types from the same extractor may overlap and are all
    kept.
    """
    preferred = _longest_per_span([e for e in entities if e.get(EXTRACTOR) == preferred_extractor], processor_name)
    others = []
    for candidate in (e for e in entities if e.get(EXTRACTOR) != preferred_extractor):
        anchor = next((entity for entity in preferred if _overlaps(entity, candidate)), None)
        if anchor is not None:
            anchor[_PROCESSORS] = [*anchor.get(_PROCESSORS, []), processor_name]
        elif candidate[ENTITY_ATTRIBUTE_TYPE] not in exclusive_types and \
                has_content_word(str(candidate.get(ENTITY_ATTRIBUTE_VALUE, ""))):
            others.append(candidate)
    kept = preferred + _longest_per_span(others, processor_name)
    return sorted(kept, key=lambda entity: (entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]))


def _longest_per_span(entities: list[dict[str, Any]], processor_name: str) -> list[dict[str, Any]]:
    """Copies of ``entities`` with one entity per overlapping same-type span: the longer wins, then the earlier."""
    def length(entity: dict[str, Any]) -> int:
        return entity[ENTITY_ATTRIBUTE_END] - entity[ENTITY_ATTRIBUTE_START]

    kept: list[dict[str, Any]] = []
    for candidate in entities:
        rivals = [entity for entity in kept if entity[ENTITY_ATTRIBUTE_TYPE] == candidate[ENTITY_ATTRIBUTE_TYPE]
                  and _overlaps(entity, candidate)]
        if not rivals:
            kept.append(dict(candidate))
            continue
        contenders: list[dict[str, Any]] = [*rivals, candidate]
        longest = max(contenders, key=length)  # max keeps the first of equals
        winner = dict(longest)
        winner[_PROCESSORS] = [*winner.get(_PROCESSORS, []), *([processor_name] * len(rivals))]
        kept = [entity for entity in kept if not any(entity is rival for rival in rivals)] + [winner]
    return kept


def canonical_values(entities: list[dict[str, Any]], doc: Any) -> list[dict[str, Any]]:
    """Replace the value of spaCy-ruler entities by the pattern's canonical id (``ent_id_``) when it has one."""
    if doc is None:
        return entities
    ids = {(ent.start_char, ent.end_char, ent.label_): ent.ent_id_ for ent in doc.ents if ent.ent_id_}
    result = []
    for entity in entities:
        key = (entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END], entity[ENTITY_ATTRIBUTE_TYPE])
        if entity.get(EXTRACTOR) == SPACY_EXTRACTOR and key in ids:
            entity = {**entity, ENTITY_ATTRIBUTE_VALUE: ids[key]}
        result.append(entity)
    return result


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityMerger(GraphComponent):
    """Merges entities found by several extractors (spaCy entity ruler, CRF) without duplicates."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``preferred_extractor``: the extractor whose entities win over overlapping ones of other extractors;
        ``exclusive_types``: entity types taken from the preferred extractor only."""
        return {"preferred_extractor": SPACY_EXTRACTOR, "exclusive_types": []}

    def __init__(self, config: dict[str, Any]) -> None:
        """Store the configuration."""
        self._preferred = config["preferred_extractor"]
        self._exclusive = frozenset(config["exclusive_types"])

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> EntityMerger:
        """Create the component (nothing to train)."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Canonicalise ruler values, then drop duplicate entities, per message."""
        for message in messages:
            entities = message.get(ENTITIES) or []
            if not entities:
                continue
            entities = canonical_values(entities, message.get(SPACY_DOCS[TEXT]))
            merged = merge_entities(entities, self._preferred, type(self).__name__, self._exclusive)
            message.set(ENTITIES, merged, add_to_output=True)
        return messages


@dataclass(frozen=True)
class NegationRules:
    """Cue lists for symptom negation (see ``bot/patterns/negation.yml``)."""

    cues: frozenset[str]
    post_cues: tuple[tuple[str, ...], ...]
    pseudo_negations: tuple[tuple[str, ...], ...]
    scope_resets: tuple[tuple[str, ...], ...]
    clause_breaks: frozenset[str]

    @classmethod
    def load(cls, path: Path = DEFAULT_NEGATION_FILE) -> NegationRules:
        """Read the rules from YAML; phrases are normalised like message words (lower case, no apostrophes)."""
        content = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        try:
            return cls(
                cues=frozenset(_normalise(word) for word in content["cues"]),
                post_cues=tuple(_phrase(text) for text in content["post_cues"]),
                pseudo_negations=tuple(_phrase(text) for text in content["pseudo_negations"]),
                scope_resets=tuple(_phrase(text) for text in content["scope_resets"]),
                clause_breaks=frozenset(_normalise(word) for word in content["clause_breaks"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"{path}: negation rules need cues, post_cues, pseudo_negations, scope_resets and "
                             f"clause_breaks lists ({error})") from error


def _normalise(word: str) -> str:
    if not isinstance(word, str):
        raise TypeError(f"expected a string, got {word!r}")
    return word.lower().replace("\u2019", "'").replace("'", "")


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(_normalise(token) for token in _TOKEN.findall(text.lower().replace("\u2019", "'")))


@dataclass(frozen=True)
class _Token:
    raw: str
    norm: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    lowered = text.replace("\u2019", "'").lower()
    return [_Token(m.group(), _normalise(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(lowered)]


def _phrase_spans(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[tuple[int, int]]:
    spans = []
    for phrase in phrases:
        for index in range(len(words) - len(phrase) + 1):
            if tuple(words[index:index + len(phrase)]) == phrase:
                spans.append((index, index + len(phrase)))
    return spans


def is_negated(text: str, start: int, end: int, rules: NegationRules, window: int = 6, post_window: int = 3) -> bool:
    """Whether the span ``text[start:end]`` is negated by a cue before it (same clause, within ``window`` words,
    no affirmative scope reset in between) or by a post cue within ``post_window`` words after it."""
    tokens = _tokens(text)
    words = [token.norm for token in tokens]
    masked = {index for first, last in _phrase_spans(words, rules.pseudo_negations) for index in range(first, last)}
    resets_ending_at = {last - 1 for _, last in _phrase_spans(words, rules.scope_resets)}
    before = [index for index, token in enumerate(tokens) if token.end <= start]
    for distance, index in enumerate(reversed(before)):
        if distance >= window or words[index] in rules.clause_breaks or index in resets_ending_at:
            break
        if index not in masked and (words[index] in rules.cues or tokens[index].raw.endswith("n't")):
            return True
    after = [index for index, token in enumerate(tokens) if token.start >= end][:post_window + 1]
    after_words = []
    for index in after:
        if words[index] in rules.clause_breaks:
            break
        after_words.append(words[index] if index not in masked else "")
    return bool(_phrase_spans(after_words, rules.post_cues))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class NegationMarker(GraphComponent):
    """Marks denied symptoms with ``role: negated`` (configurable entity types and role name)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Entity types to check, the role to set, cue file (relative to the project or absolute) and windows."""
        return {"entities": ["symptom"], "role": "negated", "rules_file": None, "window": 6, "post_window": 3}

    def __init__(self, config: dict[str, Any], rules: NegationRules) -> None:
        """Store configuration and rules."""
        self._entities = set(config["entities"])
        self._role = config["role"]
        self._window = int(config["window"])
        self._post_window = int(config["post_window"])
        self._rules = rules

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> NegationMarker:
        """Create the component, reading the cue file (default: ``bot/patterns/negation.yml``)."""
        rules_file = Path(config["rules_file"]) if config.get("rules_file") else DEFAULT_NEGATION_FILE
        return cls(config, NegationRules.load(rules_file))

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the negation role on matching entities that carry no role yet."""
        for message in messages:
            entities = message.get(ENTITIES) or []
            text = message.get(TEXT) or ""
            changed = False
            for entity in entities:
                if entity[ENTITY_ATTRIBUTE_TYPE] not in self._entities or entity.get(ENTITY_ATTRIBUTE_ROLE):
                    continue
                if is_negated(text, entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END], self._rules,
                              self._window, self._post_window):
                    entity[ENTITY_ATTRIBUTE_ROLE] = self._role
                    changed = True
            if changed:
                message.set(ENTITIES, entities, add_to_output=True)
        return messages
