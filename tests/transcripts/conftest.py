"""Fixtures: a real tracker dump, its transcript and a services config in a temporary folder (defined in
:mod:`tests.support.transcripts`, which the attack tests share)."""

from tests.support.transcripts import settings, tracker, transcript  # noqa: F401
