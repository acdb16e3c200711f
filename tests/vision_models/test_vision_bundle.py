"""Bundle save/load: round trip, checksum verification, loading from a URL."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vision_models.bundle import BundleConfig, BundleError, load_bundle, save_bundle
from vision_models.networks import build_network, network_from_config
from vision_models.prefilter import Prefilter


def _tiny_bundle(folder: Path) -> torch.nn.Module:
    params = {"in_channels": 1, "num_classes": 3, "features": [4, 8]}
    torch.manual_seed(0)
    network = build_network("compact_cnn", params)
    save_bundle(network, BundleConfig(name="tiny", architecture="compact_cnn", params=params, classes=["a", "b", "c"]),
                folder)
    return network


def test_round_trip_restores_identical_outputs(tmp_path: Path) -> None:
    network = _tiny_bundle(tmp_path)
    bundle = load_bundle(tmp_path, network_from_config)
    x = torch.rand(2, 1, 32, 32)
    network.eval()
    assert len(bundle.config.sha256) == 64
    assert torch.equal(bundle.network(x), network(x))


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    _tiny_bundle(tmp_path)
    weights = tmp_path / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="checksum mismatch"):
        load_bundle(tmp_path, network_from_config)


def test_missing_bundle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="config.json is missing"):
        Prefilter.load(tmp_path)


@pytest.fixture()
def served(tmp_path: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *args: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_loads_from_url_and_verifies_checksum(served, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder, base = served
    network = _tiny_bundle(folder / "tiny")
    bundle = load_bundle(f"{base}/tiny", network_from_config, cache_dir=tmp_path_factory.mktemp("cache"))
    x = torch.rand(1, 1, 32, 32)
    network.eval()
    assert torch.equal(bundle.network(x), network(x))
    (folder / "tiny" / "weights.pt").write_bytes(b"not the weights")
    with pytest.raises(BundleError, match="checksum mismatch"):
        load_bundle(f"{base}/tiny", network_from_config, cache_dir=tmp_path_factory.mktemp("cache2"))


def test_capability_loads_from_url(served, prefilter_bundle: Path) -> None:
    folder, base = served
    for name in ("config.json", "weights.pt"):
        (folder / "pf").mkdir(exist_ok=True)
        (folder / "pf" / name).write_bytes((prefilter_bundle / name).read_bytes())
    image = Image.fromarray((np.arange(64 * 64).reshape(64, 64) % 251).astype("uint8"), mode="L")
    local = Prefilter.load(prefilter_bundle).predict(image)
    remote = Prefilter.load(f"{base}/pf").predict(image)
    assert remote == local
