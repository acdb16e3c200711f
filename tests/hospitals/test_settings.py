"""services.yml loading: env references, overrides, validation and the embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest

from qaid.images import MAX_FILE_BYTES
from qaid.settings import DEFAULT_SERVICES_PATH, SettingsError, expand_env, image_size_limit, load_settings
from tests.support.hospitals import HOSPITALS, write_services


def test_env_references_use_the_environment_or_the_default() -> None:
    assert expand_env("${A:-x}/${B:-sqlite:///{var_dir}/o.db}", {"A": "1"}) == "1/sqlite:///{var_dir}/o.db"
    assert expand_env({"k": ["${A}"]}, {"A": "v"}) == {"k": ["v"]}
    with pytest.raises(SettingsError, match="MISSING_SECRET"):
        expand_env("${MISSING_SECRET}", {})


def test_secrets_come_from_env_with_embedded_default(tmp_path: Path, weights: Path) -> None:
    path = write_services(tmp_path, HOSPITALS)
    assert load_settings(path, env={}).hospital("London").intake.secret == "s-london"
    overridden = load_settings(path, env={"TEST_SECRET_LONDON": "prod-secret"})
    assert overridden.hospital("London").intake.secret == "prod-secret"


def test_qaid_services_and_var_dir_overrides(tmp_path: Path, weights: Path) -> None:
    path = write_services(tmp_path, HOSPITALS)
    settings = load_settings(env={"QAID_SERVICES": str(path), "QAID_VAR_DIR": str(tmp_path / "elsewhere")})
    assert settings.path == path.resolve()
    assert settings.var_dir == (tmp_path / "elsewhere").resolve()
    assert settings.delivery.database_url == f"sqlite:///{settings.var_dir.as_posix()}/outbox.sqlite"
    assert settings.media_dir == settings.var_dir / "media"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"url": "http://x"}, "exactly one"),
        ({"capabilities": {"teleport": "x"}}, "unknown capabilities"),
        ({"location": {"lat": "north"}}, "numeric lat and lon"),
        ({"location": {"lat": 95, "lon": 0}}, "Invalid coordinates"),
        ({"intake": {"url": "http://x"}}, "intake needs url and secret"),
    ],
)
def test_invalid_hospitals_are_refused_with_a_clear_message(tmp_path: Path, change: dict, message: str) -> None:
    path = write_services(tmp_path, [{**HOSPITALS[0], **change}])
    with pytest.raises(SettingsError, match=message):
        load_settings(path, env={})


def test_unknown_section_keys_and_bad_yaml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="unknown keys"):
        load_settings(write_services(tmp_path, HOSPITALS, delivery={"retries_forever": True}), env={})
    bad = tmp_path / "bad.yml"
    bad.write_text("hospitals: [unclosed")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings(bad, env={})
    with pytest.raises(SettingsError, match="Cannot read"):
        load_settings(tmp_path / "absent.yml", env={})


def test_embedded_default_has_distinct_hospitals() -> None:
    settings = load_settings(DEFAULT_SERVICES_PATH, env={})
    assert len(settings.hospitals) >= 3
    assert len({(h.location.lat, h.location.lon) for h in settings.hospitals}) == len(settings.hospitals)
    vqa_bundles = {h.capabilities["vqa"] for h in settings.hospitals if "vqa" in h.capabilities}
    assert {"vqa_rad_only", "slake_only"} <= vqa_bundles
    assert any(set(h.capabilities) == {"segmentation"} for h in settings.hospitals)
    assert all(h.is_local and h.intake is not None for h in settings.hospitals)
    assert settings.inbox.port == 5056 and settings.inbox.embedded is True


def test_the_image_size_limit_is_read_from_the_services_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """services.yml's storage.max_image_bytes is the limit of every process (channels included)."""
    monkeypatch.setenv("QAID_SERVICES", str(write_services(tmp_path, HOSPITALS)))
    image_size_limit.cache_clear()
    try:
        assert image_size_limit() == 200_000
        monkeypatch.setenv("QAID_SERVICES", str(tmp_path / "missing.yml"))
        image_size_limit.cache_clear()
        assert image_size_limit() == MAX_FILE_BYTES  # the models' own limit when the file cannot be read
    finally:
        image_size_limit.cache_clear()


def test_an_image_limit_above_the_models_own_is_a_clear_error(tmp_path: Path) -> None:
    path = write_services(tmp_path, HOSPITALS)
    path.write_text(path.read_text().replace("max_image_bytes: 200000", f"max_image_bytes: {MAX_FILE_BYTES + 1}"))
    with pytest.raises(SettingsError, match="max_image_bytes must be between 1 and"):
        load_settings(path, env={})
