"""Every sentence the actions send is a response in domain.yml (issue 19: wording in one reviewable place)."""

from __future__ import annotations

import re
import string

import pytest
import yaml

from actions.responses import DOMAIN_FILE, sentence
from actions.wording import CONFIDENCE_BANDS, TOLD_CAPABILITIES, first_look_words
from qaid.state import REPO_ROOT

ACTIONS = REPO_ROOT / "actions"
RESPONSES = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))["responses"]
NAMED = re.compile(r"""(?:say\(dispatcher,|sentence\(|missing_image\s*=)\s*"""
                   r"""f?["'](utter_[a-z_{}.]+)["']""")
# Names built from a value: each expansion must exist.
EXPANSIONS = {"utter_noted_{kinds}": ("medications", "history", "history_and_medications"),
              "utter_prompt_{self.slot}": ("chief_complaint", "duration", "age_band", "location"),
              "utter_summary_{slot}": ("history", "medications", "duration", "age_band", "location"),
              "utter_capability_{c}": TOLD_CAPABILITIES,
              "utter_confidence_{band}": tuple(band for _, band in CONFIDENCE_BANDS)}


def _named() -> set[str]:
    names: set[str] = set()
    for path in ACTIONS.glob("*.py"):
        for name in NAMED.findall(path.read_text(encoding="utf-8")):
            if "{" in name:
                prefix = name[: name.index("{")]
                names.update(prefix + value for value in EXPANSIONS[name])
            else:
                names.add(name)
    return names


def test_the_actions_name_responses_and_each_is_in_the_domain() -> None:
    named = _named()
    assert len(named) > 50
    assert sorted(named - set(RESPONSES)) == []


def test_no_action_writes_a_sentence_of_its_own() -> None:
    literal = re.compile(r"""utter_message\(\s*text=f?["'][A-Za-z]""")  # text that starts with words
    offenders = [f"{path.name}:{text.count(chr(10), 0, match.start()) + 1}" for path in ACTIONS.glob("*.py")
                 for text in [path.read_text(encoding="utf-8")] for match in literal.finditer(text)]
    assert offenders == []


@pytest.mark.parametrize("name", sorted(_named()))
def test_each_response_renders_with_the_values_its_placeholders_name(name: str) -> None:
    fields = {field for _, field, _, _ in string.Formatter().parse(RESPONSES[name][0]["text"]) if field}
    text = sentence(name, **{field: f"<{field}>" for field in fields})
    assert text and "{" not in text and all(f"<{field}>" in text for field in fields)


def test_the_first_look_reads_in_plain_words() -> None:
    findings = [{"key": "organ", "answer": "chest"}, {"key": "modality", "answer": "x-ray"},
                {"key": "plane", "answer": "pa"}, {"key": "plane", "answer": "coronal plane"},
                {"key": "modality", "answer": "flair"}, {"key": "organ", "answer": ""}]
    assert first_look_words(findings) == "the chest, X-ray, PA view, coronal view, flair"
