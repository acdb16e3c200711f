"""Attack: flood a messaging channel so that its background queue grows without end and starves others.

Telegram, WhatsApp and Twilio webhooks answer at once and queue the work per conversation. The queue is
now bounded, per conversation and in all: a message beyond the bound is not queued, and its sender is
told to send it again, while other patients' messages are still taken.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.channels.channel import OutputChannel

from channels.provider import BUSY, ProviderInput
from channels.settings import ChannelSettings
from channels.tasks import ConversationWorkers, Overloaded


class _Recorder(OutputChannel):
    sent: list[tuple[str, str]] = []

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent.append((recipient_id, text))


class _Probe(ProviderInput):
    media_channel = "probe"

    @classmethod
    def name(cls) -> str:
        return "probe"

    def get_output_channel(self) -> OutputChannel:
        return _Recorder()


async def test_the_queue_is_bounded_per_conversation_and_in_all() -> None:
    gate = asyncio.Event()
    workers = ConversationWorkers(max_pending=5, max_per_key=3)
    for _ in range(3):
        workers.submit("flooder", gate.wait)
    with pytest.raises(Overloaded):
        workers.submit("flooder", gate.wait)
    workers.submit("patient-1", gate.wait)
    workers.submit("patient-2", gate.wait)
    with pytest.raises(Overloaded):
        workers.submit("patient-3", gate.wait)
    gate.set()
    await workers.drain()
    workers.submit("patient-3", gate.wait)  # room again once the jobs are done
    await workers.drain()


async def test_a_shed_message_gets_a_clear_reply_and_others_still_get_through() -> None:
    _Recorder.sent = []
    channel = _Probe(ChannelSettings())
    channel.workers = ConversationWorkers(max_pending=100, max_per_key=2)
    gate, handled = asyncio.Event(), []

    def job(name: str):
        async def run() -> None:
            await gate.wait()
            handled.append(name)
        return run

    for index in range(5):
        channel.enqueue("flooder", job(f"flood-{index}"))
    channel.enqueue("patient", job("patient"))
    await asyncio.sleep(0)
    gate.set()
    await channel.workers.drain()
    await asyncio.gather(*channel._apologies)
    assert sorted(handled) == ["flood-0", "flood-1", "patient"]
    assert _Recorder.sent == [("flooder", BUSY)] * 3
