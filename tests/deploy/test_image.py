"""deploy/Dockerfile, statically (no Docker engine here), and the commands it and the
manifests run: the same module entry points these tests run with the project's interpreter."""

from __future__ import annotations

import json
import re
import runpy
import sys
import tomllib

import pytest

from tests.deploy.manifests import DEPLOY, REPO, SERVICES, Rendered, containers

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def serve_command(service: str) -> list[str]:
    return ["python", "-m", f"heze_{service}.main", "serve"]


def schema_command(service: str) -> list[str]:
    return ["python", "-m", f"heze_{service}.main", "create-schema"]


def test_multi_stage_on_slim_python_311() -> None:
    (base_image,) = [a for k, a in instructions() if k == "ARG" and a.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim[\w.-]*", base_image)
    assert [arguments.split()[0] for keyword, arguments in instructions() if keyword == "FROM"] == [
        "${PYTHON_IMAGE}",
        "${PYTHON_IMAGE}",
    ]


def test_dependencies_come_from_the_lock_file() -> None:
    build, _ = stages()
    runs = [
        arguments for keyword, arguments in build if keyword == "RUN" and "uv sync" in arguments
    ]
    assert runs and all("--frozen" in r and "--no-dev" in r for r in runs)
    assert "--no-editable" in runs[-1]
    copied = " ".join(arguments for keyword, arguments in build if keyword == "COPY")
    assert "uv.lock" in copied
    # Every workspace member's manifest is copied for the dependency layer.
    workspace = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    members = sorted(
        p.parent for pattern in workspace["members"] for p in REPO.glob(f"{pattern}/pyproject.toml")
    )
    for member in members:
        assert (
            f"{member.relative_to(REPO)}/pyproject.toml" in copied
        ), f"{member} missing from the Dockerfile"


def test_final_stage_has_no_build_tools_and_runs_unprivileged() -> None:
    _, runtime = stages()
    text = " ".join(arguments for _, arguments in runtime)
    for tool in ("apt-get install", "gcc", "build-essential", "pip install", "uv "):
        assert tool not in text, f"{tool!r} in the runtime stage"
    copies = [arguments for keyword, arguments in runtime if keyword == "COPY"]
    assert copies == [
        "--from=build /app/.venv /app/.venv",
        "--from=build /usr/share/fonts/truetype/wqy /usr/share/fonts/truetype/wqy",
    ], "only the virtual environment and the certificates' font"
    (user,) = [arguments for keyword, arguments in runtime if keyword == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0


def test_healthcheck_asks_the_liveness_endpoint() -> None:
    _, runtime = stages()
    (healthcheck,) = [arguments for keyword, arguments in runtime if keyword == "HEALTHCHECK"]
    assert "urllib.request" in healthcheck and "/health/live" in healthcheck


def test_image_command_is_a_service_serve_command() -> None:
    _, runtime = stages()
    (cmd,) = [json.loads(arguments) for keyword, arguments in runtime if keyword == "CMD"]
    assert cmd in [serve_command(service) for service in SERVICES]
    assert not [keyword for keyword, _ in runtime if keyword == "ENTRYPOINT"]


def test_manifests_run_the_module_commands(rendered: Rendered) -> None:
    for service in SERVICES:
        (api,) = containers(rendered.deployment(service))
        assert api["command"] == serve_command(service)
        assert "args" not in api
        (schema,) = containers(rendered.schema_job(service))
        assert schema["command"] == schema_command(service)


def test_dockerignore_keeps_only_what_the_image_needs() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*")] == "*"  # everything is excluded first...
    assert {"!pyproject.toml", "!uv.lock", "!contracts/", "!services/"} <= set(
        ignore
    )  # ...then these


# runpy warns that the module is already imported (by other tests): expected, harmless here.
@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")
@pytest.mark.parametrize("service", SERVICES)
def test_module_entry_points_offer_serve_and_create_schema(
    service: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m heze_<service>.main --help`, run the way `python -m` runs it (runpy, as
    __main__), in this process: the module the image and the manifests name is a working CLI
    with both commands."""
    monkeypatch.setattr(sys, "argv", [f"heze_{service}.main", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module(f"heze_{service}.main", run_name="__main__", alter_sys=True)
    assert exit_info.value.code in (0, None)
    output = capsys.readouterr().out
    assert "serve" in output and "create-schema" in output
