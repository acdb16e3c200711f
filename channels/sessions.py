"""Conversations that belong to someone: sender ids namespaced by channel, and signed session tokens.

Every channel hands Rasa the sender id ``<channel>:<id>`` (``telegram:<chat id>``, ``whatsapp:<phone>``,
``twilio:<From>``, ``rest:<client id>``, ``webchat:<widget id>``), so that no channel can address a
conversation of another; output channels strip the prefix again before they call their platform
(``channels.provider.NamespacedOutput``). This module imports no Rasa, so test clients can use it too.

Telegram, WhatsApp and Twilio authenticate their webhooks themselves. The REST and web chat channels,
where the client chooses its sender id, issue a session token with the first message of a conversation
(the ``X-Qaid-Session`` response header): an HMAC-SHA256 of the namespaced sender id under the server's
session secret. Every later message must carry it back in the same request header; a message for an
existing conversation without it, or with a wrong one, is refused with 401 and reaches nobody.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from qaid.state import state_secret

SESSION_HEADER = "X-Qaid-Session"
TOKEN_PREFIX = "v1."
SECRET_NAME = "session.key"


def namespaced(channel: str, sender: str) -> str:
    """The sender id Rasa sees for ``sender`` of ``channel``."""
    return f"{channel}:{sender}"


def platform_id(channel: str, sender_id: str) -> str:
    """The platform's own id in ``channel``'s namespaced sender id (what the platform API addresses)."""
    prefix = f"{channel}:"
    return sender_id[len(prefix):] if sender_id.startswith(prefix) else sender_id


def session_secret(state_dir: Path | None = None) -> bytes:
    """``$QAID_SESSION_SECRET``, or the key kept in ``<var>/secrets/session.key`` (:mod:`qaid.state`)."""
    return state_secret(SECRET_NAME, "QAID_SESSION_SECRET", state_dir)


class SessionSigner:
    """Issues and checks the session token of a namespaced sender id."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def token(self, sender_id: str) -> str:
        """The token that proves a client owns ``sender_id``."""
        digest = hmac.new(self.secret, sender_id.encode(), hashlib.sha256).digest()
        return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def verify(self, sender_id: str, token: str | None) -> bool:
        """True when ``token`` is ``sender_id``'s; any other string (non-ASCII included) is False."""
        if not token:
            return False
        return hmac.compare_digest(self.token(sender_id).encode(), token.encode("utf-8", "surrogateescape"))
