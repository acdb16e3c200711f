"""Q&Aid Rasa channels that carry images: REST, web chat, Telegram, WhatsApp Cloud API, Twilio and a shell client.

Every channel stores inbound files through :mod:`channels.media` and passes them to actions as message
metadata (``qaid/CONTRACTS.md``); ``GET /media/<name>`` (:mod:`channels.serving`) serves outbound images.
"""
