"""Benchmark: transcript delivery throughput and aggregator latency with 3 hospitals; prints JSON.

    PYTHONPATH=. .venv-models/bin/python bench/bench_hospitals.py [--deliveries 100] [--questions 30]
        [--config services.yml] [--image scan.png] [--remote] [--skip-delivery] [--skip-aggregator]

Delivery: ``--deliveries`` transcripts are queued for 3 hospitals each (in a temporary outbox),
then the worker delivers them over loopback HTTP to the real inbox (signature checks, schema
validation, SQLite storage); reported as deliveries per second and the duration of one delivery
attempt (signed POST until the inbox's acknowledgement).

Aggregator: ``--questions`` questions asked through ``HospitalNetwork.ask`` to the 3 nearest VQA
hospitals of the configuration, in-process or (``--remote``) through hospital services started as
separate processes on loopback; reported as median and p95 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from hospital_service.inbox import EmbeddedInbox
from hospitals import HospitalNetwork
from qaid.settings import IntakeConfig, Settings, load_settings
from qaid.state import REPO_ROOT
from transcripts.model import Consent, PatientFacts, QAEntry, Symptom, Transcript
from transcripts.service import TranscriptService

QUESTIONS = [
    ("Is there an abnormality in this image?", {"ABN": 0.9, "PRES": 0.1}),
    ("Which organ is shown?", {"ORGAN": 0.95, "OTHER": 0.05}),
    ("Is this an MRI or a CT scan?", {"MODALITY": 0.9, "OTHER": 0.1}),
    ("Which plane is this image taken in?", {"PLANE": 0.9, "OTHER": 0.1}),
    ("Is there a mass?", {"PRES": 0.85, "ABN": 0.15}),
]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation)."""
    return float(np.percentile(np.asarray(values, dtype=float), q))


def summary_ms(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values) * 1000, 1), "p95_ms": round(percentile(values, 95) * 1000, 1),
            "n": len(values)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_transcript(index: int) -> Transcript:
    """A representative transcript (5 questions, 2 symptoms, 1 segmentation-free image record)."""
    questions = [QAEntry(q, "yes", 0.8, max(t, key=t.get), 3, 3, 0.9) for q, t in QUESTIONS]
    return Transcript(
        transcript_id=f"00000000-0000-4000-8000-{index:012d}", conversation_id=f"bench-{index}",
        created_at="2025-11-22T10:00:00+00:00", started_at="2025-11-22T09:55:00+00:00",
        ended_at="2025-11-22T10:00:00+00:00",
        patient=PatientFacts("headache", [Symptom("headache"), Symptom("fever", True)], "2 weeks", "40-49", "Paris"),
        consent=Consent(True, "2025-11-22T09:55:05+00:00"), questions=questions,
    )


def delivery_settings(settings: Settings, folder: Path, port: int) -> Settings:
    """``settings`` with a temporary outbox/inbox and the first 3 hospitals delivering to a local inbox."""
    hospitals = []
    for config in settings.hospitals[:3]:
        slug = "".join(c for c in config.name.lower() if c.isalnum())
        intake = IntakeConfig(f"http://127.0.0.1:{port}/intake/{slug}", f"bench-secret-{slug}")
        hospitals.append(dataclasses.replace(config, intake=intake))
    delivery = dataclasses.replace(settings.delivery, database_url=f"sqlite:///{folder}/outbox.sqlite",
                                   poll_interval_s=0.05)
    inbox = dataclasses.replace(settings.inbox, embedded=True, host="127.0.0.1", port=port,
                                database_url=f"sqlite:///{folder}/inbox.sqlite")
    return dataclasses.replace(settings, var_dir=folder, hospitals=tuple(hospitals), delivery=delivery, inbox=inbox)


async def bench_delivery(settings: Settings, count: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="qaid-bench-") as tmp:
        config = delivery_settings(settings, Path(tmp), free_port())
        names = [h.name for h in config.hospitals]
        service = TranscriptService.from_settings(config)
        service.outbox.create()
        started = time.perf_counter()
        for index in range(count):
            await asyncio.to_thread(service.queue, bench_transcript(index), names)
        queue_s = time.perf_counter() - started
        total = count * len(names)
        inbox = EmbeddedInbox(config)
        await inbox.start()
        started = time.perf_counter()
        await service.start()
        try:
            while service.outbox.counts().get("delivered", 0) < total:
                await asyncio.sleep(0.05)
        finally:
            elapsed = time.perf_counter() - started
            await service.stop()
            await inbox.stop()
        rows = service.outbox.find(limit=total)
        attempts = sum(r.attempts for r in rows)
        durations = [a.duration_ms / 1000.0 for r in rows for a in service.outbox.attempts_of(r.id)]
        return {
            "deliveries": total,
            "hospitals": len(names),
            "queue_per_s": round(total / queue_s, 1),
            "deliver_seconds": round(elapsed, 2),
            "deliveries_per_s": round(total / elapsed, 1),
            "attempts": attempts,
            "attempt": summary_ms(durations),
            "body_bytes_mean": round(statistics.mean(len(r.body) for r in rows)),
        }


def test_image(path: str | None) -> bytes:
    if path:
        return Path(path).read_bytes()
    yy, xx = np.mgrid[0:128, 0:128]
    disc = ((xx - 64) ** 2 + (yy - 60) ** 2 < 45**2) * 140 + ((xx - 80) ** 2 + (yy - 50) ** 2 < 8**2) * 90
    buffer = io.BytesIO()
    Image.fromarray(np.clip(disc + 20, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def start_remote(settings: Settings, names: list[str]) -> tuple[Settings, list[subprocess.Popen]]:
    """Serve each named hospital as its own process and point the settings at their URLs."""
    processes, hospitals = [], []
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    for config in settings.hospitals:
        if config.name not in names:
            continue
        port = free_port()
        command = [sys.executable, "-m", "hospital_service", "--config", str(settings.path), "serve",
                   "--hospital", config.name, "--port", str(port)]
        processes.append(subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        hospitals.append(dataclasses.replace(config, url=f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or processes[-1].poll() is not None:
                    raise RuntimeError(f"hospital service {config.name} did not start") from None
                time.sleep(0.3)
    return dataclasses.replace(settings, hospitals=tuple(hospitals)), processes


def with_vqa_bundle(settings: Settings, bundle: str) -> Settings:
    """``settings`` with every VQA hospital serving ``bundle``."""
    hospitals = tuple(
        dataclasses.replace(h, capabilities={**h.capabilities, "vqa": bundle}) if "vqa" in h.capabilities else h
        for h in settings.hospitals
    )
    return dataclasses.replace(settings, hospitals=hospitals)


async def bench_aggregator(settings: Settings, questions: int, image: bytes, remote: bool) -> dict[str, object]:
    started = time.perf_counter()
    network = HospitalNetwork.from_settings(settings)
    await network.start()
    load_s = time.perf_counter() - started
    vqa = [h.name for h in await network.nearest(None, capability="vqa")][:3]
    processes: list[subprocess.Popen] = []
    if len(vqa) < 3:
        await network.close()
        return {"error": f"3 VQA hospitals needed, {len(vqa)} available ({vqa}); are the bundles in "
                         f"{settings.weights_dir}?"}
    if remote:
        await network.close()
        started = time.perf_counter()
        remote_settings, processes = start_remote(settings, vqa)
        network = HospitalNetwork.from_settings(remote_settings)
        await network.start()
        load_s = time.perf_counter() - started
    try:
        for question, types in QUESTIONS[:2]:  # warm-up
            await network.ask(image, question, types)
        latencies, answered = [], []
        for index in range(questions):
            question, types = QUESTIONS[index % len(QUESTIONS)]
            started = time.perf_counter()
            result = await network.ask(image, question, types)
            latencies.append(time.perf_counter() - started)
            answered.append(result.answered / max(1, result.asked))
        bundles = {h.name: h.capabilities["vqa"] for h in settings.hospitals if h.name in vqa}
        return {"hospitals": bundles, "mode": "remote" if remote else "in-process", "start_seconds": round(load_s, 2),
                **summary_ms(latencies), "answered_share": round(statistics.mean(answered), 3)}
    finally:
        await network.close()
        for process in processes:
            process.terminate()
            process.wait(10)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None)
    parser.add_argument("--deliveries", type=int, default=100, help="transcripts (each sent to 3 hospitals)")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--image", default=None, help="image file to ask about (default: a synthetic slice)")
    parser.add_argument("--remote", action="store_true", help="hospitals as HTTP services in their own processes")
    parser.add_argument("--vqa-bundle", default=None,
                        help="serve this VQA bundle at every VQA hospital (e.g. before per-dataset bundles exist)")
    parser.add_argument("--skip-delivery", action="store_true")
    parser.add_argument("--skip-aggregator", action="store_true")
    args = parser.parse_args()
    settings = load_settings(args.config)
    if args.vqa_bundle:
        if args.remote:
            parser.error("--vqa-bundle applies to in-process hospitals only (remote ones read the config file)")
        settings = with_vqa_bundle(settings, args.vqa_bundle)
    report: dict[str, object] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    if not args.skip_delivery:
        report["delivery"] = await bench_delivery(settings, args.deliveries)
    if not args.skip_aggregator:
        report["aggregator"] = await bench_aggregator(settings, args.questions, test_image(args.image), args.remote)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
