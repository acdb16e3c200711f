"""Terminal chat with images: ``python -m channels.shell --url http://localhost:5005/webhooks/qaid_rest/webhook``.

``rasa shell`` cannot attach files, so this client talks to the ``qaid_rest`` webhook of a running server
and uses the same intake as every other channel:

* ``/image PATH [question]`` uploads an image (JPEG, PNG, DICOM...), optionally with a question;
* a line that is just a path to an existing file (e.g. dragged into the terminal) attaches that file;
* a number answers the buttons of the last bot message;
* images the bot sends are saved under ``<var>/shell/`` and their path is printed;
* ``/quit`` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urljoin, urlsplit

import requests

from channels.media import IMAGE_LIMIT, safe_filename
from channels.sessions import SESSION_HEADER
from qaid.images import refusal
from qaid.state import var_dir

DEFAULT_URL = "http://localhost:5005/webhooks/qaid_rest/webhook"
REQUEST_TIMEOUT_S = 300
QUIT = ("/quit", "/exit")
HELP = (
    "Type a message and press Enter.\n"
    "  /image PATH [question]   attach an image (JPEG, PNG or DICOM), optionally with a question\n"
    "  PATH                     a path on its own (e.g. dragged into the terminal) attaches that file\n"
    "  1, 2, ...                choose one of the buttons the assistant offered\n"
    "  /quit                    leave"
)


@dataclass
class Outgoing:
    """What to send: a message text and/or an image file."""

    text: str | None = None
    image: Path | None = None


def _as_path(candidate: str) -> Path | None:
    """A file path typed, pasted or dropped into a terminal (quoted, ``\\ `` escaped or ``file://``)."""
    candidate = candidate.strip()
    if len(candidate) >= 2 and candidate[0] == candidate[-1] and candidate[0] in "'\"":
        candidate = candidate[1:-1]
    if candidate.startswith("file://"):
        candidate = unquote(urlsplit(candidate).path)
    candidate = candidate.replace("\\ ", " ")
    if not candidate:
        return None
    path = Path(candidate).expanduser()
    return path if path.is_file() else None


def parse_line(line: str, buttons: list[dict[str, Any]]) -> Outgoing | str | None:
    """Turn one input line into an :class:`Outgoing`, an error text to print, or None for nothing to do."""
    line = line.strip()
    if not line:
        return None
    if line.split(maxsplit=1)[0] == "/image":
        rest = line[len("/image"):].strip()
        try:
            parts = shlex.split(rest)
        except ValueError:
            parts = rest.split()
        if not parts:
            return "Usage: /image PATH [question]"
        path = _as_path(parts[0])
        if path is None:
            return f"No file at {parts[0]}"
        return Outgoing(text=" ".join(parts[1:]) or None, image=path)
    if line.isdigit() and buttons:
        index = int(line) - 1
        if 0 <= index < len(buttons):
            return Outgoing(text=str(buttons[index].get("payload") or buttons[index].get("title")))
    path = _as_path(line) if ("/" in line or "\\" in line) else None
    if path is not None:
        return Outgoing(image=path)
    return Outgoing(text=line)


class ShellClient:
    """Sends messages and images to the ``qaid_rest`` webhook and prints (and saves) what comes back."""

    def __init__(self, url: str, sender: str, save_dir: Path, out: TextIO = sys.stdout) -> None:
        self.url = url
        self.sender = sender
        self.save_dir = save_dir
        self.out = out
        self.http = requests.Session()
        self.buttons: list[dict[str, Any]] = []
        self.session_token: str | None = None

    def say(self, text: str) -> None:
        """Print one line for the user."""
        print(text, file=self.out, flush=True)

    def send(self, outgoing: Outgoing) -> None:
        """POST one message (multipart when an image is attached) and print the bot's answer."""
        data = {"sender": self.sender, "input_channel": "shell"}
        if outgoing.text:
            data["message"] = outgoing.text
        headers = {SESSION_HEADER: self.session_token} if self.session_token else {}
        try:
            if outgoing.image is not None:
                if outgoing.image.stat().st_size > IMAGE_LIMIT:
                    self.say(refusal("too_large", IMAGE_LIMIT))
                    return
                with outgoing.image.open("rb") as handle:
                    files = {"image": (outgoing.image.name, handle)}
                    resp = self.http.post(self.url, data=data, files=files, headers=headers,
                                          timeout=REQUEST_TIMEOUT_S)
            else:
                resp = self.http.post(self.url, data=data, headers=headers, timeout=REQUEST_TIMEOUT_S)
        except OSError as exc:
            self.say(f"Could not send: {exc}. Is the assistant running (make run)?")
            return
        if resp.status_code != 200:
            self.say(f"The assistant answered with HTTP {resp.status_code}: {resp.text[:200]}")
            return
        self.session_token = resp.headers.get(SESSION_HEADER) or self.session_token
        self.show(resp.json())

    def show(self, messages: list[dict[str, Any]]) -> None:
        """Print bot texts and numbered buttons; save images and print where they are."""
        self.buttons = []
        for message in messages:
            if message.get("text"):
                self.say(f"Q&Aid: {message['text']}")
            if message.get("image"):
                self.say(f"Q&Aid sent an image: {self.save_image(str(message['image']))}")
            if message.get("buttons"):
                self.buttons = list(message["buttons"])
                for number, button in enumerate(self.buttons, 1):
                    self.say(f"  {number}. {button.get('title', '')}")

    def save_image(self, url: str) -> str:
        """Download a bot image into ``save_dir``; returns the saved path (or the URL when that fails).

        Our own ``/media/...`` images are fetched from the server this shell talks to, whatever public URL
        the assistant put in them (e.g. a tunnel URL), falling back to the URL itself.
        """
        absolute = urljoin(self.url, url)
        parts = urlsplit(absolute)
        candidates = [absolute]
        if parts.path.startswith("/media/"):
            local = urljoin(self.url, parts.path + (f"?{parts.query}" if parts.query else ""))
            candidates = list(dict.fromkeys([local, absolute]))
        name = safe_filename(Path(parts.path).name) or f"image-{uuid.uuid4().hex[:8]}.png"
        error: OSError | None = None
        for candidate in candidates:
            try:
                resp = self.http.get(candidate, timeout=REQUEST_TIMEOUT_S)
                resp.raise_for_status()
            except OSError as exc:
                error = exc
                continue
            self.save_dir.mkdir(parents=True, exist_ok=True)
            target = self.save_dir / name
            target.write_bytes(resp.content)
            return str(target)
        return f"{absolute} (could not download: {error})"

    def repl(self, lines: TextIO = sys.stdin) -> None:
        """Read lines until ``/quit`` or end of input."""
        self.say(HELP)
        try:
            self._loop(lines)
        finally:
            self.http.close()

    def _loop(self, lines: TextIO) -> None:
        while True:
            if lines is sys.stdin:
                try:
                    line = input("You: ")
                except EOFError:
                    break
            else:
                line = lines.readline()
                if not line:
                    break
            if line.strip() in QUIT:
                break
            parsed = parse_line(line, self.buttons)
            if isinstance(parsed, str):
                self.say(parsed)
            elif parsed is not None:
                self.send(parsed)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m channels.shell``."""
    parser = argparse.ArgumentParser(prog="python -m channels.shell", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=DEFAULT_URL, help="the qaid_rest webhook of a running Rasa server")
    parser.add_argument("--sender", default=f"shell-{uuid.uuid4().hex[:8]}", help="conversation id")
    parser.add_argument("--save-dir", type=Path, default=var_dir() / "shell", help="where bot images are saved")
    args = parser.parse_args(argv)
    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:
        pass
    try:
        ShellClient(args.url, args.sender, args.save_dir).repl()
    except KeyboardInterrupt:
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
