"""Static checks of the production compose stack (temporal-compose.yml) and its images.

No container engine is needed: the file is parsed and cross-checked against the Dockerfile,
the files it mounts and the real `nexus.settings.Settings` model, so a renamed setting, a
missing build stage or a literal secret fails here instead of at deploy time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url

from nexus.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "temporal-compose.yml"

EXPECTED_SERVICES = {
    "postgresql",
    "temporal",
    "temporal-admin-tools",
    "temporal-ui",
    "minio",
    "migrate",
    "api",
    "worker-cpu",
    "worker-gpu",
}
ONE_SHOT_SERVICES = {"temporal-admin-tools", "migrate"}
LONG_RUNNING_SERVICES = EXPECTED_SERVICES - ONE_SHOT_SERVICES
APP_SERVICES = ("migrate", "api", "worker-cpu", "worker-gpu")
# Services that serve traffic or poll Temporal; they must wait for a migrated schema.
SERVING_APP_SERVICES = ("api", "worker-cpu", "worker-gpu")
SEARCH_ATTRIBUTES = ("CampaignId", "BrandId", "CreatorId", "DeliveryId", "WorkspaceId", "Stage")

# Values an operator would export; strong enough for Settings' production checks.
SAMPLE_VARIABLES = {
    "POSTGRES_PASSWORD": "Zq7-vN2kP9xR4tL8wB3m",
    "NEXUS_JWT_SECRET": "k3J9sQ2vX8pL5wN7rT4yB6mH1cF0dG2eA9uZ",
    "NEXUS_LEDGER_KEY": "5f1c0d9a3b7e2c4f8a6d1e0b9c3f7a2d4e6b8c0a1f3d5e7b9c2a4f6d8e0b1c3a",
    "MINIO_ROOT_USER": "nexus-storage-admin",
    "MINIO_ROOT_PASSWORD": "Hx4-Tq8zWm2Rk7Jp",
    "NEXUS_PAYOUT_DETAILS_KEY": "9b2e4c6a8d0f1e3b5a7c9e2d4f6a8b0c1d3e5f7a9b2c4d6e8f0a1b3c5d7e9f2a",
    "NEXUS_BANK_BENEFICIARY": "Nexus Escrow Ltd",
    "NEXUS_BANK_NAME": "Barclays Bank UK",
    "NEXUS_BANK_IBAN": "GB82WEST12345698765432",
    "NEXUS_BANK_BIC": "WESTGB2L",
}

SECRET_KEY_PATTERN = re.compile(r"(PASSWORD|PWD|SECRET|TOKEN|SECRET_KEY|ACCESS_KEY|SIGNING_KEY)$")
REQUIRED_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_]\w*):?\?[^}]+\}")
# `$$` is compose's escape for a literal `$`; `${NAME...}` and `$NAME` are interpolations.
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)


# --------------------------------------------------------------------------------------
# Helpers


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    found = load_compose()["services"]
    assert isinstance(found, dict)
    return found


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever form (mapping or list) it uses."""
    env = service.get("environment", {})
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Resolve a value the way compose does for the forms this file uses."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        current = variables.get(name)
        unset_or_empty = current is None or (current == "" and op is not None and ":" in op)
        if op is not None and op.endswith("?") and unset_or_empty:
            raise LookupError(f"required variable {name} is not set: {arg}")
        if op is not None and op.endswith("-") and unset_or_empty:
            return arg
        return current or ""

    return INTERPOLATION.sub(replace, value)


def unknown_settings_names(names: Iterable[str]) -> list[str]:
    """The `NEXUS_*` names that do not address a field of `Settings`.

    `NEXUS_A__B` addresses `Settings.model_fields["a"]`, whose annotation must be a
    BaseModel with a field `b`; deeper names walk further the same way.
    """
    unknown = []
    for name in names:
        assert name.startswith("NEXUS_"), name
        model: type[BaseModel] | None = Settings
        for part in name.removeprefix("NEXUS_").lower().split("__"):
            if model is None or part not in model.model_fields:
                unknown.append(name)
                break
            annotation = model.model_fields[part].annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
            else:
                model = None
    return unknown


def duration_seconds(value: str) -> float:
    units = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", value)
    assert "".join(number + unit for number, unit in parts) == value, value
    return sum(float(number) * units[unit] for number, unit in parts)


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def dockerfile_stages(path: Path) -> dict[str, Stage]:
    """Named stages of a Dockerfile, with global ARG defaults substituted in FROM lines."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    global_args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and current is None and "=" in rest:
            arg_name, _, default = rest.strip().partition("=")
            global_args[arg_name] = default
        elif keyword == "FROM":
            match = re.fullmatch(
                r"(?:--platform=\S+\s+)?(?P<base>\S+)(?:\s+AS\s+(?P<name>\S+))?",
                rest.strip(),
                flags=re.IGNORECASE,
            )
            assert match, line
            base = interpolate(match.group("base"), global_args)
            current = Stage(name=match.group("name") or f"#{len(stages)}", base=base)
            stages[current.name] = current
        elif current is not None:
            current.instructions.append((keyword, rest.strip()))
    return stages


def stage_chain(stages: Mapping[str, Stage], target: str) -> list[Stage]:
    """The target stage followed by the stages it is based on."""
    chain = [stages[target]]
    while chain[-1].base in stages:
        chain.append(stages[chain[-1].base])
    return chain


def stage_closure(stages: Mapping[str, Stage], target: str) -> list[Stage]:
    """Every stage whose work ends up in the target: its bases and COPY --from sources."""
    seen: dict[str, Stage] = {}
    todo = [target]
    while todo:
        name = todo.pop()
        if name in seen or name not in stages:
            continue
        stage = seen[name] = stages[name]
        todo.append(stage.base)
        for keyword, args in stage.instructions:
            source = re.search(r"--from=(\S+)", args)
            if keyword == "COPY" and source:
                todo.append(source.group(1))
    return list(seen.values())


def effective_user(stages: Mapping[str, Stage], target: str) -> str:
    for stage in stage_chain(stages, target):
        users = [args for keyword, args in stage.instructions if keyword == "USER"]
        if users:
            return users[-1]
    return "root"


def build_dockerfile(service: Mapping[str, Any]) -> Path:
    build = service["build"]
    context = COMPOSE_FILE.parent / str(build.get("context", "."))
    return context / str(build.get("dockerfile", "Dockerfile"))


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def published_container_ports(service: Mapping[str, Any]) -> set[int]:
    ports: set[int] = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).rsplit(":", 1)[-1].split("/")[0]))
    return ports


def app_environment(service_name: str) -> dict[str, str]:
    raw = environment(services()[service_name])
    return {key: interpolate(value, SAMPLE_VARIABLES) for key, value in raw.items()}


def settings_from(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in list(os.environ):
        if key.startswith("NEXUS_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings()


# --------------------------------------------------------------------------------------
# Services, images and builds


def test_file_is_a_compose_spec_with_every_service() -> None:
    compose = load_compose()
    # The compose spec dropped `version:`; current compose warns about it.
    assert "version" not in compose
    assert set(services()) >= EXPECTED_SERVICES


@pytest.mark.parametrize("name", sorted(EXPECTED_SERVICES))
def test_service_has_an_image_or_a_buildable_target(name: str) -> None:
    service = services()[name]
    assert "image" in service or "build" in service, name
    if "build" not in service:
        image = service["image"]
        # Third-party images are pinned so a redeploy cannot silently upgrade them.
        assert ":" in image, image
        assert not image.endswith(":latest"), image
        return
    dockerfile = build_dockerfile(service)
    assert dockerfile.is_file(), dockerfile
    target = service["build"]["target"]
    assert target in dockerfile_stages(dockerfile), f"no `FROM ... AS {target}` in {dockerfile}"


@pytest.mark.parametrize(
    ("name", "target", "command"),
    [
        ("migrate", "api", ["nexus", "migrate"]),
        ("api", "api", ["nexus", "api"]),
        ("worker-cpu", "worker-cpu", ["nexus", "worker", "cpu"]),
        ("worker-gpu", "worker-gpu", ["nexus", "worker", "gpu"]),
    ],
)
def test_app_services_run_the_nexus_cli_from_the_right_target(
    name: str, target: str, command: list[str]
) -> None:
    service = services()[name]
    assert service["build"]["target"] == target
    assert service["command"] == command


@pytest.mark.parametrize(
    ("target", "default_command"),
    [
        ("api", '["nexus", "api"]'),
        ("worker-cpu", '["nexus", "worker", "cpu"]'),
        ("worker-gpu", '["nexus", "worker", "gpu"]'),
    ],
)
def test_image_targets_run_as_non_root_with_the_cli_entrypoint(
    target: str, default_command: str
) -> None:
    stages = dockerfile_stages(REPO / "deploy" / "Dockerfile")
    assert effective_user(stages, target).split(":")[0] not in {"root", "0"}
    commands = [args for keyword, args in stages[target].instructions if keyword == "CMD"]
    assert commands[-1] == default_command


def test_images_carry_only_their_own_runtime() -> None:
    stages = dockerfile_stages(REPO / "deploy" / "Dockerfile")

    def runs(target: str) -> str:
        closure = stage_closure(stages, target)
        return "\n".join(
            args for stage in closure for kw, args in stage.instructions if kw == "RUN"
        )

    def root_base(target: str) -> str:
        return stage_chain(stages, target)[-1].base

    assert root_base("api").startswith("python:3.11")
    assert root_base("worker-cpu").startswith("python:3.11")
    assert root_base("worker-gpu").startswith("nvidia/cuda:")
    assert "runtime" in root_base("worker-gpu")
    assert "python3.11" in runs("worker-gpu")
    assert "ffmpeg" in runs("worker-cpu")
    assert "tesseract-ocr-eng" in runs("worker-cpu")
    assert re.search(r"pip install \"?\.\[gpu\]", runs("worker-gpu"))
    # The API and CPU images stay free of the GPU model stack, and get torch's CPU build
    # (PyPI's default torch is the multi-gigabyte CUDA one).
    assert "[gpu]" not in runs("api")
    assert "[gpu]" not in runs("worker-cpu")
    cpu_torch = r"pip install --extra-index-url https://download\.pytorch\.org/whl/cpu \.(\s|$)"
    assert re.search(cpu_torch, runs("api"), flags=re.MULTILINE)


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".nexus", ".git", ".env"} <= ignored


# --------------------------------------------------------------------------------------
# Ports, health, ordering, GPU, mounts


def test_ports_are_published_where_expected() -> None:
    found = services()
    assert published_container_ports(found["api"]) == {8000}
    assert published_container_ports(found["temporal-ui"]) == {8080}
    assert published_container_ports(found["temporal"]) == {7233}
    assert published_container_ports(found["minio"]) == {9000, 9001}
    # The database and the workers have nothing to offer outside the compose network.
    for name in ("postgresql", "worker-cpu", "worker-gpu", "migrate"):
        assert not published_container_ports(found[name]), name


@pytest.mark.parametrize("name", sorted(LONG_RUNNING_SERVICES))
def test_long_running_services_have_a_healthcheck_and_restart(name: str) -> None:
    service = services()[name]
    healthcheck = service.get("healthcheck")
    assert healthcheck, name
    assert not healthcheck.get("disable", False)
    assert healthcheck["test"]
    assert healthcheck["test"] != ["NONE"]
    assert service.get("restart") in {"unless-stopped", "always"}


def test_healthchecks_probe_what_each_service_serves() -> None:
    found = services()
    api_probe = " ".join(found["api"]["healthcheck"]["test"])
    assert "urllib" in api_probe
    assert "http://127.0.0.1:8000/readyz" in api_probe
    for worker in ("worker-cpu", "worker-gpu"):
        assert found[worker]["healthcheck"]["test"] == ["CMD", "nexus", "check", "temporal"]
    assert "pg_isready" in " ".join(found["postgresql"]["healthcheck"]["test"])
    assert "cluster health" in " ".join(found["temporal"]["healthcheck"]["test"])
    assert "/minio/health/live" in " ".join(found["minio"]["healthcheck"]["test"])


def test_startup_order_waits_for_readiness_not_just_start() -> None:
    found = services()
    assert depends_on(found["temporal"]) == {"postgresql": "service_healthy"}
    # The migration also creates the media bucket.
    assert depends_on(found["migrate"]) == {
        "postgresql": "service_healthy",
        "minio": "service_healthy",
    }
    assert depends_on(found["temporal-admin-tools"]) == {"temporal": "service_healthy"}
    assert depends_on(found["temporal-ui"])["temporal"] == "service_healthy"
    for name in SERVING_APP_SERVICES:
        deps = depends_on(found[name])
        assert deps["migrate"] == "service_completed_successfully", name
        assert deps["temporal"] == "service_healthy", name
        assert deps["temporal-admin-tools"] == "service_completed_successfully", name


def test_workers_get_time_to_drain_on_sigterm() -> None:
    found = services()
    for name in ("worker-cpu", "worker-gpu"):
        assert duration_seconds(found[name]["stop_grace_period"]) >= 60, name
    # Docker's default is 10 s; in-flight requests need a moment too.
    assert duration_seconds(found["api"]["stop_grace_period"]) >= 10


def test_gpu_worker_reserves_an_nvidia_gpu() -> None:
    service = services()["worker-gpu"]
    devices = service["deploy"]["resources"]["reservations"]["devices"]
    assert any(
        device.get("driver") == "nvidia"
        and "gpu" in device.get("capabilities", [])
        and (device.get("count") == "all" or int(device.get("count", 0)) >= 1)
        for device in devices
    )
    assert environment(service)["NEXUS_GPU__DEVICE"] == "cuda"
    # The CPU pool must not claim a GPU it never uses.
    assert "deploy" not in services()["worker-cpu"]


def test_mounted_local_files_exist() -> None:
    mounts = 0
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.get("source", "") if isinstance(volume, dict) else volume.split(":")[0]
            if source.startswith((".", "/")):
                mounts += 1
                assert (COMPOSE_FILE.parent / source).exists(), f"{name}: {source}"
    assert mounts >= 2


def test_temporal_reads_the_mounted_dynamic_config() -> None:
    temporal = services()["temporal"]
    env = environment(temporal)
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert re.fullmatch(r"temporalio/auto-setup:1\.2\d\.\d+", temporal["image"])
    # auto-setup resolves DYNAMIC_CONFIG_FILE_PATH relative to /etc/temporal.
    targets = {volume.split(":")[1]: volume.split(":")[0] for volume in temporal["volumes"]}
    mounted = targets[f"/etc/temporal/{env['DYNAMIC_CONFIG_FILE_PATH']}"]
    config = yaml.safe_load((COMPOSE_FILE.parent / mounted).read_text())
    assert config["frontend.enableUpdateWorkflowExecution"][0]["value"] is True
    assert config["frontend.enableExecuteMultiOperation"][0]["value"] is True
    assert config["limit.maxIDLength"][0]["value"] == 255


def test_app_database_is_created_by_the_postgres_init_script() -> None:
    postgres = services()["postgresql"]
    init_mounts = [
        volume.split(":")[0]
        for volume in postgres["volumes"]
        if ":/docker-entrypoint-initdb.d/" in volume
    ]
    assert init_mounts
    sql = (COMPOSE_FILE.parent / init_mounts[0]).read_text()
    assert re.search(r"CREATE DATABASE nexus\b", sql, flags=re.IGNORECASE)
    database_url = make_url(app_environment("api")["NEXUS_DATABASE__URL"])
    assert database_url.host == "postgresql"
    assert database_url.database == "nexus"


def test_admin_tools_register_every_search_attribute_as_keyword() -> None:
    service = services()["temporal-admin-tools"]
    script = " ".join([*service.get("entrypoint", []), *service["command"]])
    assert "temporal operator search-attribute create" in script
    assert "--type Keyword" in script
    for name in SEARCH_ATTRIBUTES:
        assert re.search(rf"\b{name}\b", script), name
    assert environment(service)["TEMPORAL_ADDRESS"] == "temporal:7233"


# --------------------------------------------------------------------------------------
# Settings and secrets


def all_nexus_environment_names() -> set[str]:
    return {
        key for svc in services().values() for key in environment(svc) if key.startswith("NEXUS_")
    }


def test_every_nexus_variable_is_a_settings_field() -> None:
    names = all_nexus_environment_names()
    assert len(names) >= 10
    assert unknown_settings_names(sorted(names)) == []
    # Anything spelled like a nested setting anywhere in the file must be real too.
    nested = set(re.findall(r"\bNEXUS_[A-Z0-9_]+__[A-Z0-9_]+\b", COMPOSE_FILE.read_text()))
    assert unknown_settings_names(sorted(nested)) == []


def test_settings_name_check_reports_made_up_names() -> None:
    assert unknown_settings_names(
        [
            "NEXUS_DATABASE__URL",
            "NEXUS_DATABASE__NOPE",
            "NEXUS_NOPE",
            "NEXUS_DATABASE__URL__DEEPER",
            "NEXUS_ENV",
        ]
    ) == ["NEXUS_DATABASE__NOPE", "NEXUS_NOPE", "NEXUS_DATABASE__URL__DEEPER"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_the_essential_settings(name: str) -> None:
    env = environment(services()[name])
    assert env["NEXUS_ENV"] == "production"
    assert env["NEXUS_TEMPORAL__ADDRESS"] == "temporal:7233"
    assert env["NEXUS_DATABASE__URL"].startswith("postgresql+psycopg://")
    assert env["NEXUS_AUTH__JWT_SECRET"]
    # Configuration reaches the app only through Settings.
    assert all(key.startswith("NEXUS_") for key in env), sorted(env)


def test_app_services_keep_media_in_minio() -> None:
    raw = COMPOSE_FILE.read_text()
    for name in APP_SERVICES:
        env = environment(services()[name])
        assert env["NEXUS_STORAGE__BACKEND"] == "s3"
        assert env["NEXUS_STORAGE__ENDPOINT"] == "minio:9000"
        assert env["NEXUS_STORAGE__PUBLIC_ENDPOINT"]
    # The keys are MinIO's own credentials, required variables, never literals.
    assert "NEXUS_STORAGE__ACCESS_KEY: ${MINIO_ROOT_USER:?" in raw
    assert "NEXUS_STORAGE__SECRET_KEY: ${MINIO_ROOT_PASSWORD:?" in raw


def test_secrets_are_required_interpolations_not_literals() -> None:
    checked = 0
    for name, service in services().items():
        for key, value in environment(service).items():
            if SECRET_KEY_PATTERN.search(key):
                checked += 1
                assert REQUIRED_INTERPOLATION.fullmatch(value), f"{name}.{key} = {value!r}"
    assert checked >= 5
    # The database password sits inside a URL; it must be the required variable as well.
    for name in APP_SERVICES:
        raw_url = environment(services()[name])["NEXUS_DATABASE__URL"]
        password = make_url(interpolate(raw_url, SAMPLE_VARIABLES)).password
        assert password == SAMPLE_VARIABLES["POSTGRES_PASSWORD"], name
        assert "${POSTGRES_PASSWORD:?" in raw_url, name


def compose_strings(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from compose_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from compose_strings(item)


def test_every_interpolation_is_either_supplied_or_defaulted() -> None:
    """A shell `$var` left unescaped (`$$var`) would be blanked by compose, not by the shell."""
    for text in compose_strings(load_compose()):
        for match in INTERPOLATION.finditer(text):
            if match.group(0) == "$$":
                continue
            assert match.group("bare") is None, f"unescaped ${match.group('bare')} in {text!r}"
            name, op = match.group("braced"), match.group("op") or ""
            assert op.endswith("-") or name in SAMPLE_VARIABLES, f"${{{name}}} in {text!r}"


def test_compose_refuses_to_start_without_the_secrets() -> None:
    raw = environment(services()["api"])
    missing = {key: value for key, value in SAMPLE_VARIABLES.items() if key != "NEXUS_JWT_SECRET"}
    with pytest.raises(LookupError, match="NEXUS_JWT_SECRET"):
        interpolate(raw["NEXUS_AUTH__JWT_SECRET"], missing)
    with pytest.raises(LookupError, match="POSTGRES_PASSWORD"):
        interpolate(raw["NEXUS_DATABASE__URL"], {})


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_validates_as_production_settings(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_from(app_environment(name), monkeypatch)
    assert settings.env == "production"
    assert settings.auth.jwt_secret.get_secret_value() == SAMPLE_VARIABLES["NEXUS_JWT_SECRET"]
    assert settings.temporal.address == "temporal:7233"
    database_url = make_url(settings.database.url.get_secret_value())
    assert database_url.password == SAMPLE_VARIABLES["POSTGRES_PASSWORD"]
    if name == "api":
        assert settings.api.host == "0.0.0.0"
        assert settings.api.port == 8000
        assert settings.api.cors_origins == []
    if name == "worker-gpu":
        assert settings.gpu.device == "cuda"


def test_production_environment_refuses_a_weak_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    env = app_environment("api")
    env["NEXUS_AUTH__JWT_SECRET"] = "too-short"
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        settings_from(env, monkeypatch)
