"""Red flags in patients' own words: current ones found, negated and long-past ones not."""

from __future__ import annotations

import pytest
import yaml

from bot.red_flag_classifier import DEV_SETS
from qaid.red_flags import red_flag, reported_text
from qaid.state import REPO_ROOT


@pytest.mark.parametrize(("text", "flag"), [
    ("I have crushing chest pain", "chest pain"),
    ("pain in my chest since this morning", "chest pain"),
    ("I can't breathe", "trouble breathing"),
    ("no fever but I can't breathe", "trouble breathing"),
    ("my face is drooping and my speech is slurred", "stroke signs"),
    ("he passed out at work", "loss of consciousness"),
    ("I had a seizure an hour ago", "seizure"),
    ("I am bleeding heavily", "heavy bleeding"),
    ("I want to kill myself", "thoughts of self-harm"),
    ("worst headache of my life", "sudden severe headache"),
    ("can you help, my dad can't get a breath and his lips are going blue", "trouble breathing"),
    ("mum is on the floor, I can't rouse her", "loss of consciousness"),
    ("little one has a temp, is really drowsy and has dark spots that stay when pressed", "meningitis signs"),
    ("my 2 year old has drunk some bleach", "poisoning"),
    ("took a new antibiotic and now I'm covered in hives, dizzy and wheezing", "allergic reaction"),
    ("i had a seizure last month and another one just now", "seizure"),  # found chatting: read as history
    ("had a stroke in 2019 and now his face is drooping again", "stroke signs"),
    ("my nose is blocked and now I can't breathe at all and my lips are going blue", "trouble breathing"),
])
def test_current_red_flags_are_found(text: str, flag: str) -> None:
    assert red_flag(text) == flag


@pytest.mark.parametrize("text", [
    "cough that won't go away", "no chest pain, just a mild cough", "I don't have chest pain",
    "I had a stroke 5 years ago", "history of seizures", "I fainted last year", "headache for 3 weeks", "",
    "my chest doesn't hurt, it's more like a pulled muscle", "can anxiety cause chest tightness",
    "I nearly had a stroke when I saw the price of petrol", "my grandad died of a heart attack in his 60s",
    "suppose my dad has a stroke while I'm at work, how would I recognise it",
    "choked a little on my water but coughed it up", "whats the difference between a seizure and a faint",
    "send it now", "yes send it now please", "the nosebleed stopped on its own", "had a stroke in 2019, now fine again",
    "I can't breathe through my nose because of a cold", "my nose is blocked and I can't breathe well at night",
    "I was unconscious for a second under anesthesia during my operation",  # found by a helper playing patients
])
def test_no_red_flag(text: str) -> None:
    assert red_flag(text) is None


def _messages(name: str) -> list[str]:
    path = REPO_ROOT / "tests" / "red_flags" / f"{name}.yml"
    return [m["text"] for m in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]]


@pytest.mark.parametrize("name", DEV_SETS)
def test_the_patterns_still_cover_the_sets_they_were_tuned_on(name: str) -> None:
    """A regression guard on ``dev*_*`` (the tuning sets, 100% / 0% when tuned); the held-out figures are in
    bench/README.md (``bench/red_flag_report.py``), not asserted here."""
    missed = [text for text in _messages(f"{name}_red_flags") if red_flag(text) is None]
    alarms = [text for text in _messages(f"{name}_ordinary") if red_flag(text) is not None]
    assert not missed and not alarms, (missed, alarms)


@pytest.mark.parametrize(("text", "kept"), [
    ("he's gone grey and won't answer me", "he's gone grey and won't answer me"),
    ("no fever, he's gone grey and won't answer me", "he's gone grey and won't answer me"),
    ("had a stroke years ago. now my arm feels odd", "now my arm feels odd"),
    ("is this normal? she's gone very quiet", "she's gone very quiet"),
    ("what is sepsis?", ""),
    ("bit of a tension headache, probably need to drink more water", ""),
])
def test_the_classifier_reads_what_is_reported_now(text: str, kept: str) -> None:
    assert reported_text(text) == kept


# Found by a code review of the patterns of 2026-12-07 (not from any red-flag file): ordinary messages the new
# patterns flagged, and emergencies the new guards cancelled.
REVIEW_ORDINARY = [
    "I've had lots of blood tests and they were all normal",
    'my blood pressure is low and I feel dizzy',
    'felt a bit faint after giving blood',
    'soaked through walking home in the rain',
    'night sweats soak through the sheets',
    'I have the tablets the doctor gave me, can I take them with food?',
    "I've taken all my tablets as prescribed this week",
    'I took all my pills this morning',
    "I'm on too many tablets and want my GP to review them",
    'did you get my last message?',
    "I'm going to go tonight to the walk-in centre",
    'rope burn from tug of war',
    'took 10 deep breaths',
    'took 1000 iu of vitamin d',
    'there are some missing images from my upload',
    'I took the batteries out of the smoke alarm',
    "a rash on my arm that won't go away",
    "spots that don't go away",
    'I see dots and flashing lights before my migraines',
    "I'm 45 years old and have a bulging disc",
    'my 80 year old mum walks with a limp',
    'my son is 12 months old and has a temperature of 38',
    'sharp pain on the side of the head and I feel sick',
    "I'm on chemo and get headaches in my temples",
    "I'll list my symptoms all at once",
    'I doubled up on my dose',
    'my baby keeps rolling on to her tummy',
    'my knee is in agony',
    "I'm scared of having a heart attack like my dad",
    'crooked teeth',
    'acne on the right side of my face',
    'my mole has turned a funny colour',
    'slumped on the sofa all evening',
    'my son is not awake yet, should I wake him for his medicine?',
    'it burns really badly when I wee',
    'blisters from new shoes',
    'a bruise bigger than my hand',
    'the splinter is still stuck in my finger',
    "I'm drowning in work",
    "I'm on antibiotics and they make me feel dizzy",
    'my allergies are playing up, my eyes are puffy',
    "my hands get clammy when I'm nervous",
    "I worry that one day I'll have a stroke like my mum",
]
REVIEW_EMERGENCIES = [
    'it feels as if an elephant is sitting on my chest',
    'it feels as if my chest is being crushed',
    'they gave me penicillin and now my throat is closing up',
    'the nurse gave him antibiotics and now his lips are swelling',
    'I was fine after dinner then suddenly the worst headache of my life',
    'I vomited blood, it came up bright red',
    "I'm ok now but my husband is unconscious on the floor",
    'he was ok now he has collapsed and is unresponsive',
    'a rash that never blanches under a glass and a high fever',
    "he still isn't awake after his fall",
    "he's making no sound at all",
    "my gtn spray didn't help and the pain is still there",
    "his inhaler doesn't help and he's still wheezing",
    "he can't catch their breath",
    "I'm worried he's having a stroke, his face is drooping",
]


@pytest.mark.parametrize("text", REVIEW_ORDINARY)
def test_ordinary_messages_found_by_review_raise_no_red_flag(text: str) -> None:
    assert red_flag(text) is None


@pytest.mark.parametrize("text", REVIEW_EMERGENCIES)
def test_emergencies_found_by_review_are_found(text: str) -> None:
    assert red_flag(text) is not None


def test_a_remedy_that_did_not_help_does_not_make_a_message_mild() -> None:
    assert reported_text("his inhaler hasn't helped and he's going grey") != ""


@pytest.mark.parametrize(("text", "flag"), [
    ("I want to get fit, which exercise is best for a bad back", None),
    ("can I have a fit note for work", None),
    ("my backstroke is terrible, is swimming ok with a bad knee", None),
    ("stroking the cat makes my eyes itch", None),
    ("my legs are dead after the gym yesterday", None),
    ("I cut myself shaving this morning", None),
    ("the business is bleeding money and I can't sleep", None),
    ("my head is going to explode with all these forms", None),
    ("I'm dying my hair red, can that cause a rash", None),
    ("drowning in paperwork, need a sick note", None),
    ("I fell asleep on the sofa and woke up feeling sick", None),
    # the same words in their emergency sense still count
    ("she had a fit in the car a minute ago", "seizure"),
    ("he's fitting and his lips are going blue", "trouble breathing"),
    ("I think my dad is having a stroke", "stroke signs"),
    ("her face is dripping on one side and she can't hold the phone", "stroke signs"),
    ("he cut his wrists, there's blood everywhere", "thoughts of self-harm"),
    ("my head feels like it's going to explode with the pain", "sudden severe headache"),
    ("my son is lying on the floor not moving", "loss of consciousness"),
])
def test_words_in_another_sense_raise_no_red_flag(text: str, flag: str | None) -> None:
    """Word senses: a finding inside a phrase where its flag's words mean something else does not count, and a
    figurative cue counts only near the finding and outside it."""
    assert red_flag(text) == flag


@pytest.mark.parametrize("text", [
    "12 weeks pregnant, no bleeding, no pain, just feeling a bit nauseous",
    "the baby is feeding well, no fever, not floppy, just a runny nose",
])
def test_a_message_listing_denials_is_not_left_to_the_classifier(text: str) -> None:
    assert reported_text(text) == ""


def test_every_word_sense_list_belongs_to_a_red_flag() -> None:
    """A misspelt key in ``_OTHER_SENSES`` would silently guard nothing."""
    from qaid.red_flags import _OTHER_SENSES, RED_FLAG_PAIRS, RED_FLAGS

    assert set(_OTHER_SENSES) <= set(RED_FLAGS) | {name for name, *_ in RED_FLAG_PAIRS}


@pytest.mark.parametrize(("text", "kept"), [
    ("my dad fits the profile for a prostate check", "my dad for a prostate check"),
    ("I'm as fit as a fiddle and just saying hello", "I'm and just saying hello"),
])
def test_the_classifier_does_not_read_words_in_their_other_sense(text: str, kept: str) -> None:
    assert reported_text(text) == kept


@pytest.mark.parametrize("text", [
    "my mum had a seizure in March and has been fine since",
    "I don't have any facial drooping or slurred speech",
    "my uncle had a stroke 5 years ago, is stroke hereditary?",
    "when do you use an epipen",
    "bit of chest tightness with this cold",
    "past history: epilepsy, last seizure 2015",
])
def test_dates_questions_and_softeners_are_not_red_flags(text: str) -> None:
    assert red_flag(text) is None


@pytest.mark.parametrize(("text", "flag"), [
    ("my chest hurts a bit when i cough, no fever", None),  # found chatting: emergency advice, marked urgent
    ("my chest hurts a bit", None),
    ("chest hurts when I cough", None),
    ("crushing chest pain, a bit sweaty", "chest pain"),
    ("my chest hurts and my left arm is numb", "chest pain"),
])
def test_a_softener_after_the_finding_and_pain_on_coughing(text: str, flag: str | None) -> None:
    assert red_flag(text) == flag


@pytest.mark.parametrize(("text", "flag"), [
    ("my neighbour had a stroke last week, I'm worried it could happen to me", None),
    ("he had a seizure 3 weeks ago", None),
    ("she had a stroke last week and her face is drooping again", "stroke signs"),
    ("mum had a stroke last week and now she cant speak", "stroke signs"),
    ("i had a seizure last week and another one just now", "seizure"),
])
def test_what_someone_had_last_week_is_past_unless_something_is_happening_now(text: str, flag: str | None) -> None:
    """Found chatting: a neighbour's stroke of last week raised emergency advice."""
    assert red_flag(text) == flag
