"""Fixtures for channel tests (defined in :mod:`tests.support.channel_server`)."""

from tests.support.channel_server import http, media_store, serve  # noqa: F401
