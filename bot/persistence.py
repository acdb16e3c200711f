"""Saving and restoring a trained component's fitted object in Rasa's model storage (joblib)."""

from __future__ import annotations

import logging
from typing import Any

import joblib
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

logger = logging.getLogger(__name__)


def persist(model_storage: ModelStorage, resource: Resource, filename: str, fitted: Any) -> Resource:
    """Write ``fitted`` to ``filename`` inside the component's resource; returns the resource."""
    with model_storage.write_to(resource) as directory:
        joblib.dump(fitted, directory / filename)
    return resource


def restore(model_storage: ModelStorage, resource: Resource, filename: str, missing: str) -> Any | None:
    """The object :func:`persist` wrote, or ``None`` (logging ``missing``) when the component was never trained."""
    try:
        with model_storage.read_from(resource) as directory:
            return joblib.load(directory / filename)
    except (ValueError, FileNotFoundError):
        logger.warning(missing, resource)
        return None
