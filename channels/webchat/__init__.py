"""Web chat: a chat page and an embeddable widget served by the Rasa server itself (see :mod:`.channel`)."""

from channels.webchat.channel import WebChatInput

__all__ = ["WebChatInput"]
