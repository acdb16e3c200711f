"""Files placed in a media store the way a channel of ours stores them (``media/<sha256>.<ext>``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def put_in_media(var_dir: Path, data: bytes, extension: str, channel: str = "rest") -> dict[str, Any]:
    """Write ``data`` to ``<var_dir>/media/<sha256>.<extension>``; returns the ``image`` metadata a channel sends."""
    digest = hashlib.sha256(data).hexdigest()
    media = var_dir / "media"
    media.mkdir(parents=True, exist_ok=True)
    (media / f"{digest}.{extension}").write_bytes(data)
    return {"path": f"media/{digest}.{extension}", "sha256": digest, "size": len(data), "channel": channel}
