"""Button payloads that do not fit a platform's size limit travel as short tokens mapped back on reply."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

TOKEN_PREFIX = "qb:"


class ButtonPayloads:
    """Maps long Rasa button payloads (``/inform{"hospital": ...}``) to short tokens and back."""

    def __init__(self, max_bytes: int, capacity: int = 10_000) -> None:
        self.max_bytes = max_bytes
        self.capacity = capacity
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        """The payload itself when it fits ``max_bytes`` (and is not token-like), else a token."""
        if len(payload.encode()) <= self.max_bytes and not payload.startswith(TOKEN_PREFIX):
            return payload
        token = TOKEN_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:24]
        self._payloads[token] = payload
        self._payloads.move_to_end(token)
        if len(self._payloads) > self.capacity:
            self._payloads.popitem(last=False)
        return token

    def decode(self, data: str) -> str | None:
        """The payload for button data sent back by the platform; None for a token we no longer know."""
        if not data.startswith(TOKEN_PREFIX):
            return data
        return self._payloads.get(data)
