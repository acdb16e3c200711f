"""Many patients at once: a load benchmark of the real stack over ``qaid_rest``.

``python bench/bench_load.py --patients 50`` starts the assistant (``bot.cli run`` on free ports, state in a
temporary folder) and runs N scripted consultations concurrently, each a patient who greets, consents, sends a
brain-MRI-like image, asks questions, asks for the outline and its size, describes a symptom and says thanks.
Each patient waits for the answer before the next turn, as a person does. It prints, as JSON:

- per turn kind (text, image, question, segmentation): count, p50 / p95 / p99 latency in ms;
- throughput (turns per second over the run), errors (non-200 answers or timeouts, with examples);
- the CPU seconds the Rasa server and the action server used during the run.

``--url`` runs against an assistant that is already running instead (then the CPU split is not measured);
``--model`` starts the assistant on another trained Rasa model (an A/B of two NLU pipelines).
``--profile DIR`` also samples both servers with py-spy during the run (``pip install py-spy``) and writes
``DIR/rasa.txt`` and ``DIR/actions.txt``: the functions where each server's time went, most first.
The run is bounded: ``--max-seconds`` stops starting new turns, and every request has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from channels.sessions import SESSION_HEADER
from tests.support.phantoms import head_phantom, png_bytes
from tests.support.stack import start_stack

WEBHOOK = "/webhooks/qaid_rest/webhook"
SERVERS = (("rasa", "bot.rasa_server run"), ("actions", "actions.server"))
# (kind, text); the image turn sends a scan with the text as its caption-less trigger.
SCRIPT = (
    ("text", "hello"),
    ("text", "I agree"),
    ("image", "/send_image"),
    ("question", "what organ is this?"),
    ("question", "is there anything abnormal?"),
    ("segmentation", "show me the lesion"),
    ("question", "how big is it?"),
    ("text", "I have had headaches for 3 weeks"),
    ("question", "is this an MRI?"),
    ("text", "thanks"),
)


def percentiles(values: list[float]) -> dict[str, float]:
    """Count and p50/p95/p99 of latencies in seconds, as milliseconds."""
    if not values:
        return {"count": 0}
    data = np.asarray(values) * 1000.0
    return {"count": len(values), **{f"p{q}": round(float(np.percentile(data, q)), 1) for q in (50, 95, 99)}}


def server_pids(marker: str) -> list[int]:
    """Process ids whose command line contains ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def start_profilers(out: Path, seconds: float) -> list[subprocess.Popen]:
    """py-spy on each server for ``seconds``, raw collapsed stacks in ``out`` (summarised by :func:`summarise`)."""
    beside = Path(sys.executable).with_name("py-spy")
    spy = shutil.which("py-spy") or (str(beside) if beside.exists() else None)
    if spy is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    out.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "50",
                              "--format", "raw", "--output", str(out / f"{name}.raw"), "--nonblocking"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, marker in SERVERS for pid in server_pids(marker)[:1]]


def summarise(out: Path, top: int = 25) -> None:
    """``<name>.txt``: the functions with the most samples (self and in total) from ``<name>.raw``."""
    for name, _ in SERVERS:
        raw = out / f"{name}.raw"
        if not raw.exists():
            continue
        own: Counter[str] = Counter()
        total: Counter[str] = Counter()
        samples = 0
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames, n = stack.split(";"), int(count)
            samples += n
            own[frames[-1]] += n
            for frame in set(frames):
                total[frame] += n
        lines = [f"{samples} samples", "", "self:"] + [f"{n / samples:6.1%}  {f}" for f, n in own.most_common(top)]
        lines += ["", "total:"] + [f"{n / samples:6.1%}  {f}" for f, n in total.most_common(top)]
        (out / f"{name}.txt").write_text("\n".join(lines) + "\n")


def cpu_seconds(marker: str) -> float:
    """User + system CPU seconds of the processes whose command line contains ``marker`` (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in server_pids(marker):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def patient_scan(sender: str) -> str:
    """The base64 PNG ``sender`` sends: the head phantom with faint noise seeded by the sender, so that every
    patient sends a different file, as real patients do, and no cache keyed on an image serves one patient
    from another's work."""
    rng = np.random.default_rng(zlib.crc32(sender.encode()))
    noisy = head_phantom(256).astype(np.int16) + rng.integers(-3, 4, size=(256, 256))
    return base64.b64encode(png_bytes(np.clip(noisy, 0, 255).astype(np.uint8))).decode()


async def patient(session: aiohttp.ClientSession, url: str, sender: str, image: str, deadline: float,
                  timeout_s: float, results: dict[str, list[float]], errors: list[str]) -> None:
    """One scripted consultation as ``sender`` (who sends ``image``), turn after turn."""
    token = None
    for kind, text in SCRIPT:
        if time.monotonic() > deadline:
            return
        metadata = {"image": {"base64": image, "filename": "scan.png"}} if kind == "image" else {}
        headers = {SESSION_HEADER: token} if token else {}
        started = time.monotonic()
        try:
            async with session.post(url + WEBHOOK, json={"sender": sender, "message": text, "metadata": metadata},
                                    headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
                await resp.read()
                if resp.status != 200:
                    errors.append(f"{kind} {text!r}: HTTP {resp.status}")
                    return
                token = resp.headers.get(SESSION_HEADER) or token
        except (TimeoutError, aiohttp.ClientError) as exc:
            errors.append(f"{kind} {text!r}: {type(exc).__name__}")
            return
        results[kind].append(time.monotonic() - started)


async def run_load(url: str, patients: int, max_seconds: float, timeout_s: float, name: str = "load") -> dict[str, Any]:
    """Run ``patients`` consultations at once against ``url`` (senders ``<name>-<i>-<pid>``); latency figures."""
    senders = [f"{name}-{i}-{os.getpid()}" for i in range(patients)]
    images = [patient_scan(sender) for sender in senders]
    results: dict[str, list[float]] = {kind: [] for kind, _ in SCRIPT}
    errors: list[str] = []
    deadline = time.monotonic() + max_seconds
    connector = aiohttp.TCPConnector(limit=patients)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(patient(session, url, sender, image, deadline, timeout_s, results, errors)
                               for sender, image in zip(senders, images)))
    elapsed = time.monotonic() - started
    turns = sum(len(v) for v in results.values())
    return {
        "patients": patients,
        "seconds": round(elapsed, 1),
        "turns": turns,
        "turns_per_s": round(turns / elapsed, 2) if elapsed else 0.0,
        "all": percentiles([x for v in results.values() for x in v]),
        "per_kind": {kind: percentiles(values) for kind, values in results.items()},
        "errors": len(errors),
        "error_examples": errors[:5],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=50, help="concurrent patients (default 50)")
    parser.add_argument("--url", help="an assistant already running (default: start one)")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop starting turns after this long")
    parser.add_argument("--timeout", type=float, default=120, help="seconds one turn may take before it is an error")
    parser.add_argument("--profile", type=Path, help="sample both servers with py-spy into this folder")
    parser.add_argument("--model", type=Path, help="trained Rasa model for the started assistant (default: make's)")
    args = parser.parse_args(argv)
    if args.url and args.model:
        parser.error("--model starts an assistant; with --url one is already running")
    if args.url:
        report = measure(args.url.rstrip("/"), args)
    else:
        with tempfile.TemporaryDirectory(prefix="qaid-load-") as state:
            stack = start_stack(Path(state), model=args.model.resolve() if args.model else None)
            try:
                report = measure(f"http://localhost:{stack.rasa_port}", args)
                report["startup_s"] = round(stack.startup_s, 1)
            finally:
                stack.stop()
    print(json.dumps(report, indent=2))
    return 0


def measure(url: str, args: argparse.Namespace) -> dict:
    """Warm up with one consultation, then run the load on ``url``; the CPU the servers of this machine used
    (every Rasa server and every action server, however many replicas) and, with ``--profile``, py-spy."""
    asyncio.run(run_load(url, 1, 60, args.timeout, "warm-up"))
    before = {name: cpu_seconds(marker) for name, marker in SERVERS}
    profilers = start_profilers(args.profile, args.max_seconds) if args.profile else []
    report = asyncio.run(run_load(url, args.patients, args.max_seconds, args.timeout))
    report["cpu_s"] = {name: round(cpu_seconds(marker) - before[name], 1) for name, marker in SERVERS}
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(30)
    if args.profile:
        summarise(args.profile)
    return report


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
