"""The state folder and the secrets kept in it.

One lookup for every process: ``$QAID_VAR_DIR`` or ``<repo>/var`` (git-ignored). Secrets the embedded default
needs (the session-token key, the action server's shared secret) come from an environment variable when one
is set, else from ``<var>/secrets/<name>``, created with a random value on first use (mode 0600) and kept,
so a restart or a second process sees the same value.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SECRETS_SUBDIR = "secrets"


def var_dir() -> Path:
    """The state folder: ``$QAID_VAR_DIR`` or ``<repo>/var``."""
    return Path(os.environ.get("QAID_VAR_DIR") or REPO_ROOT / "var")


def state_secret(name: str, env_var: str, state_dir: Path | None = None) -> bytes:
    """``$env_var``, or the random secret ``<state>/secrets/<name>`` (created on first use, mode 0600)."""
    configured = os.environ.get(env_var)
    if configured:
        return configured.encode()
    path = (state_dir or var_dir()) / SECRETS_SUBDIR / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        candidate = path.with_name(f".{name}.{secrets.token_hex(4)}")
        candidate.write_bytes(secrets.token_hex(32).encode())
        candidate.chmod(0o600)
        try:
            os.link(candidate, path)  # the first writer wins; a concurrent start reads the same secret
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_bytes().strip()


# The Rasa server sends this header on every call to the action server, which refuses calls without it.
ACTION_SECRET_HEADER = "X-Qaid-Action-Secret"


def action_secret(state_dir: Path | None = None) -> bytes:
    """The action server's shared secret: ``$QAID_ACTION_SECRET`` or ``<var>/secrets/action.key``."""
    return state_secret("action.key", "QAID_ACTION_SECRET", state_dir)


def media_secret() -> str:
    """The one media-link signing secret (:mod:`qaid.media_links`): ``$QAID_MEDIA_SECRET`` or
    ``<var>/secrets/media.key`` (created on first start and kept, so links survive restarts and replicas)."""
    return state_secret("media.key", "QAID_MEDIA_SECRET").decode()
