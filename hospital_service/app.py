"""The hospital service: one hospital's models over HTTP (aiohttp).

Routes (documented in ``schemas/hospital.openapi.json``, served at ``/openapi.json``):
``GET /health``, ``/sources``, ``/capabilities``; ``POST /prefilter``, ``/label``, ``/vqa``,
``/insights``, ``/segmentation``. Images come as multipart (field ``image``) or JSON with
``image_base64``; every error is ``{"code": ..., "message": ...}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from hospitals.base import Hospital
from hospitals.types import HospitalError, to_dict
from qaid.state import REPO_ROOT

logger = logging.getLogger(__name__)
OPENAPI_PATH = REPO_ROOT / "schemas" / "hospital.openapi.json"
HOSPITAL_KEY = web.AppKey("hospital", Hospital)
LIMIT_KEY = web.AppKey("max_image_bytes", int)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, code: str, message: str) -> web.Response:
    """The JSON error body every route uses."""
    return web.json_response({"code": code, "message": message}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON ``{code, message}`` body with the right status."""
    try:
        return await handler(request)
    except HospitalError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[LIMIT_KEY]
        return error_response(413, "too_large", f"The request is larger than the {limit} byte image limit allows.")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
    except Exception:  # the service must answer JSON whatever happens
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "The hospital service failed; please retry later.")


async def read_request(request: web.Request) -> tuple[bytes, dict[str, Any]]:
    """Image bytes and other fields of a multipart or JSON (``image_base64``) request."""
    limit = request.app[LIMIT_KEY]
    fields: dict[str, Any] = {}
    image: bytes | None = None
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue  # a nested multipart is no field of ours
            if part.name == "image":
                image = bytes(await part.read(decode=False))
            elif part.name:
                fields[part.name] = await part.text()
        if isinstance(fields.get("question_types"), str):
            fields["question_types"] = _parse_json(fields["question_types"], "question_types")
    elif request.content_type == "application/json":
        body = _parse_json(await request.text(), "body")
        if not isinstance(body, dict):
            raise HospitalError("bad_request", "The JSON body must be an object.", 400)
        encoded = body.pop("image_base64", None)
        if encoded is not None:
            try:
                image = base64.b64decode(str(encoded), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise HospitalError("bad_base64", "image_base64 is not valid base64.", 400) from exc
        fields = body
    else:
        raise HospitalError("unsupported_media_type", "Send multipart/form-data or application/json.", 415)
    if not image:
        raise HospitalError("missing_image", "The request has no image.", 400)
    if len(image) > limit:
        raise HospitalError("too_large", f"The image is larger than {limit} bytes.", 413)
    return image, fields


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HospitalError("malformed_json", f"{what} is not valid JSON: {exc.msg}.", 400) from exc


def _question_types(value: Any) -> dict[str, float] | None:
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict):
        raise HospitalError("bad_request", "question_types must be an object {type: probability}.", 400)
    try:
        return {str(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError) as exc:
        raise HospitalError("bad_request", "question_types values must be numbers.", 400) from exc


async def health(request: web.Request) -> web.Response:
    return web.json_response(await request.app[HOSPITAL_KEY].health())


async def capabilities(request: web.Request) -> web.Response:
    hospital = request.app[HOSPITAL_KEY]
    items = [to_dict(info) for info in (await hospital.capabilities()).values()]
    return web.json_response({"hospital": hospital.name, "capabilities": items})


async def sources(request: web.Request) -> web.Response:
    hospital = request.app[HOSPITAL_KEY]
    config = hospital.config
    models = [
        {"capability": info.name, "bundle": info.bundle, "version": info.version, "trained_on": info.trained_on}
        for info in (await hospital.capabilities()).values()
    ]
    return web.json_response(
        {
            "hospital": hospital.name,
            "city": config.city,
            "location": {"lat": config.location.lat, "lon": config.location.lon},
            "image_types": list(config.image_types),
            "models": models,
        }
    )


async def prefilter(request: web.Request) -> web.Response:
    image, _ = await read_request(request)
    return web.json_response(to_dict(await request.app[HOSPITAL_KEY].prefilter(image)))


async def label(request: web.Request) -> web.Response:
    image, _ = await read_request(request)
    return web.json_response(to_dict(await request.app[HOSPITAL_KEY].label(image)))


async def vqa(request: web.Request) -> web.Response:
    image, fields = await read_request(request)
    question = str(fields.get("question") or "").strip()
    if not question:
        raise HospitalError("missing_question", "The request has no question.", 400)
    result = await request.app[HOSPITAL_KEY].vqa(image, question, _question_types(fields.get("question_types")))
    return web.json_response(to_dict(result))


async def insights(request: web.Request) -> web.Response:
    image, _ = await read_request(request)
    findings = await request.app[HOSPITAL_KEY].insights(image)
    return web.json_response({"findings": [to_dict(finding) for finding in findings]})


async def segmentation(request: web.Request) -> web.Response:
    image, _ = await read_request(request)
    result = await request.app[HOSPITAL_KEY].segment(image)
    body = to_dict(result)
    body["overlay_png_base64"] = base64.b64encode(body.pop("overlay_png")).decode("ascii")
    return web.json_response(body)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(json.loads(OPENAPI_PATH.read_text(encoding="utf-8")))


def create_app(hospital: Hospital, max_image_bytes: int) -> web.Application:
    """The aiohttp application serving ``hospital``; its models load at start-up."""
    # base64 inflates by 4/3; leave room for the other fields
    app = web.Application(client_max_size=max_image_bytes * 4 // 3 + 64 * 1024, middlewares=[json_errors])
    app[HOSPITAL_KEY] = hospital
    app[LIMIT_KEY] = max_image_bytes

    async def start(_: web.Application) -> None:
        await hospital.start()

    async def stop(_: web.Application) -> None:
        await hospital.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_get("/health", health)
    app.router.add_get("/sources", sources)
    app.router.add_get("/capabilities", capabilities)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_post("/prefilter", prefilter)
    app.router.add_post("/label", label)
    app.router.add_post("/vqa", vqa)
    app.router.add_post("/insights", insights)
    app.router.add_post("/segmentation", segmentation)
    return app
