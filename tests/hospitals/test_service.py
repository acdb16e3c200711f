"""The hospital service over real HTTP (loopback): routes, OpenAPI, errors, and the remote client."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hospital_service.app import OPENAPI_PATH, create_app
from hospitals import HospitalError, HospitalNetwork
from hospitals.local import LocalHospital
from hospitals.remote import RemoteHospital
from qaid.settings import HospitalConfig, Location, RemoteConfig, Settings, load_settings
from tests.support.hospitals import HOSPITALS, CallLog, png_bytes, registry_for, write_services

DOC = json.loads(OPENAPI_PATH.read_text())


def validate(body: Any, component: str) -> None:
    """Validate ``body`` against ``#/components/schemas/<component>`` of the OpenAPI document."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": DOC["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def local(settings: Settings, name: str, log: CallLog) -> LocalHospital:
    return LocalHospital(settings.hospital(name), settings.bundle_path, registry_for(log))


@pytest_asyncio.fixture
async def client(settings: Settings, log: CallLog) -> AsyncIterator[TestClient]:
    app = create_app(local(settings, "London", log), settings.max_image_bytes)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def form(**fields: Any) -> Any:
    from aiohttp import FormData

    data = FormData(default_to_multipart=True)
    for key, value in fields.items():
        if isinstance(value, bytes):
            data.add_field(key, value, filename="scan.png", content_type="image/png")
        else:
            data.add_field(key, value)
    return data


@pytest.mark.asyncio
async def test_openapi_is_served_and_documents_every_route(client: TestClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status == 200
    served = await response.json()
    assert served["openapi"].startswith("3.1") and served == DOC
    routes = {(r.method.lower(), r.resource.canonical) for r in client.server.app.router.routes() if r.method != "HEAD"}
    documented = {(method, path) for path, item in served["paths"].items() for method in item}
    assert routes == documented
    jsonschema.Draft202012Validator.check_schema({"components": DOC["components"]})


@pytest.mark.asyncio
async def test_get_routes_match_their_schemas(client: TestClient) -> None:
    for path, component in (("/health", "Health"), ("/capabilities", "Capabilities"), ("/sources", "Sources")):
        response = await client.get(path)
        assert response.status == 200, path
        validate(await response.json(), component)
    capabilities = await (await client.get("/capabilities")).json()
    vqa = next(c for c in capabilities["capabilities"] if c["name"] == "vqa")
    assert vqa["bundle"] == "vqa_rad_only" and vqa["metrics"]["val_accuracy_by_type"]["PRES"] == 0.8
    sources = await (await client.get("/sources")).json()
    assert sources["city"] == "London" and {"capability": "vqa", "bundle": "vqa_rad_only", "version": "1.2.0",
                                            "trained_on": ["vqa_rad_only"]} in sources["models"]


@pytest.mark.asyncio
async def test_post_routes_accept_multipart_and_base64(client: TestClient) -> None:
    image = png_bytes()
    encoded = base64.b64encode(image).decode()
    for path, component in (("/prefilter", "Prefilter"), ("/label", "Label"), ("/insights", "Insights")):
        for kwargs in ({"data": form(image=image)}, {"json": {"image_base64": encoded}}):
            response = await client.post(path, **kwargs)
            assert response.status == 200, (path, await response.text())
            validate(await response.json(), component)
    response = await client.post("/vqa", data=form(image=image, question="Is it normal?",
                                                    question_types=json.dumps({"ABN": 0.9})))
    body = await response.json()
    validate(body, "VQA")
    assert body["answer"] == "yes" and body["question_type"] == "ABN" and body["question_type_source"] == "caller"
    response = await client.post("/vqa", json={"image_base64": encoded, "question": "What organ?"})
    validate(await response.json(), "VQA")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path, kwargs, status, code",
    [
        ("/prefilter", {"data": form(note="no image")}, 400, "missing_image"),
        ("/prefilter", {"data": form(image=b"not an image at all")}, 400, "not_an_image"),
        ("/prefilter", {"data": "{broken", "headers": {"Content-Type": "application/json"}}, 400, "malformed_json"),
        ("/prefilter", {"json": {"image_base64": "***"}}, 400, "bad_base64"),
        ("/prefilter", {"data": b"raw", "headers": {"Content-Type": "image/png"}}, 415, "unsupported_media_type"),
        ("/prefilter", {"data": form(image=b"x" * 210_000)}, 413, "too_large"),
        ("/prefilter", {"data": form(image=b"x" * 400_000)}, 413, "too_large"),
        ("/vqa", {"json": {"image_base64": base64.b64encode(png_bytes()).decode()}}, 400, "missing_question"),
        ("/vqa", {"json": {"image_base64": "aGk=", "question": "q", "question_types": [1]}}, 400, "bad_request"),
        ("/segmentation", {"data": form(image=png_bytes())}, 404, "capability_unavailable"),
        ("/nowhere", {}, 404, "not_found"),
    ],
)
async def test_errors_are_json_with_code_and_message(
    client: TestClient, path: str, kwargs: dict, status: int, code: str
) -> None:
    response = await client.post(path, **kwargs)
    body = await response.json()
    assert response.status == status, body
    validate(body, "Error")
    assert body["code"] == code and body["message"]


@pytest.mark.asyncio
async def test_remote_hospital_gives_the_same_answers_as_local(settings: Settings, log: CallLog) -> None:
    hospital = local(settings, "Stockholm", log)
    async with TestServer(create_app(hospital, settings.max_image_bytes)) as server:
        config = HospitalConfig("Stockholm", "Stockholm", Location(59.3, 18.0), {"segmentation": "segmentation"},
                                ("brain_mri",), str(server.make_url("")).rstrip("/"), None)
        remote = RemoteHospital(config, settings.remote)
        try:
            assert list(await remote.capabilities()) == ["segmentation"]
            assert await remote.segment(png_bytes()) == await hospital.segment(png_bytes())
            with pytest.raises(HospitalError) as caught:
                await remote.vqa(png_bytes(), "What is it?")
            assert caught.value.code == "capability_unavailable" and caught.value.status == 404
            with pytest.raises(HospitalError, match="not_an_image"):
                await remote.segment(b"garbage")
        finally:
            await remote.close()


@pytest.mark.asyncio
async def test_network_mixes_local_and_remote_hospitals(tmp_path: Path, weights: Path, log: CallLog) -> None:
    base = load_settings(write_services(tmp_path, HOSPITALS), env={})
    async with TestServer(create_app(local(base, "Berlin", log), base.max_image_bytes)) as server:
        hospitals = [dict(h) for h in HOSPITALS]
        hospitals[1] = {k: v for k, v in hospitals[1].items() if k != "local"} | {"url": str(server.make_url(""))}
        settings = load_settings(write_services(tmp_path, hospitals), env={})
        network = HospitalNetwork.from_settings(settings, registry_for(log))
        await network.start()
        try:
            assert isinstance(network.hospitals[1], RemoteHospital)
            answer = await network.ask(png_bytes(), "Is there a tumour?", {"PRES": 1.0}, "brain_mri",
                                       {"latitude": 52.5, "longitude": 13.4})
            berlin = answer.contributions[0]
            assert berlin.hospital == "Berlin" and berlin.answer == "no" and berlin.accuracy == 0.7
            assert (answer.answered, answer.asked) == (3, 3)
        finally:
            await network.close()


@pytest.mark.asyncio
async def test_retries_are_bounded_and_the_breaker_opens() -> None:
    hits = []

    async def failing(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response({"code": "overloaded", "message": "busy"}, status=503)

    app = web.Application()
    app.router.add_post("/prefilter", failing)
    async with TestServer(app) as server:
        config = HospitalConfig("Flaky", "", Location(0, 0), {"prefilter": "p"}, (), str(server.make_url("")), None)
        remote = RemoteHospital(config, RemoteConfig(timeout_s=2, retries=2, retry_backoff_s=0.01,
                                                     breaker_failures=3, breaker_reset_s=60))
        try:
            with pytest.raises(HospitalError, match="overloaded"):
                await remote.prefilter(png_bytes())
            assert len(hits) == 3 and remote.breaker.state == "open"
            with pytest.raises(HospitalError) as caught:
                await remote.prefilter(png_bytes())
            assert caught.value.code == "circuit_open" and len(hits) == 3
        finally:
            await remote.close()


@pytest.mark.asyncio
async def test_unreachable_hospital_times_out_into_a_hospital_error() -> None:
    config = HospitalConfig("Gone", "", Location(0, 0), {"prefilter": "p"}, (), "http://127.0.0.1:9", None)
    remote = RemoteHospital(config, RemoteConfig(timeout_s=1, retries=1, retry_backoff_s=0.01))
    try:
        with pytest.raises(HospitalError) as caught:
            await remote.prefilter(png_bytes())
        assert caught.value.code == "unreachable"
    finally:
        await remote.close()


def test_breaker_half_opens_after_the_reset_period() -> None:
    from hospitals.remote import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(failures=2, reset_s=10, clock=lambda: now[0])
    breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 11
    assert breaker.allow() and not breaker.allow()  # one trial call only
    breaker.record_failure()
    assert breaker.state == "open"
    now[0] = 22
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


@pytest.mark.asyncio
async def test_an_unreachable_remote_hospital_counts_as_asked_not_answered(
    tmp_path: Path, weights: Path, log: CallLog
) -> None:
    hospitals = [dict(h) for h in HOSPITALS]
    hospitals[1] = {k: v for k, v in hospitals[1].items() if k != "local"} | {"url": "http://127.0.0.1:9"}
    settings = load_settings(write_services(tmp_path, hospitals), env={})
    network = HospitalNetwork.from_settings(settings, registry_for(log))
    await network.start()
    try:
        berlin = next(h for h in await network.nearest(None) if h.name == "Berlin")
        assert berlin.capabilities == ["label", "prefilter", "vqa"]  # as configured
        answer = await network.ask(png_bytes(), "Is there a tumour?", {"PRES": 1.0}, "brain_mri")
        assert (answer.answered, answer.asked) == (2, 3) and answer.answer == "yes"
        failed = next(c for c in answer.contributions if c.hospital == "Berlin")
        assert failed.error and failed.answer is None
    finally:
        await network.close()
