"""Events the action server sends to channels inside a bot message's ``custom`` payload.

``{"qaid_event": "conversation_erased"}`` rides on the answer to "delete my data": the web chat widget then
forgets the conversation in the browser too (history, sender id, session token). Messaging platforms get
the text only; output channels drop these payloads (``channels.provider.NamespacedOutput``).
"""

EVENT_KEY = "qaid_event"
CONVERSATION_ERASED = "conversation_erased"
ERASED_EVENT = {EVENT_KEY: CONVERSATION_ERASED}
