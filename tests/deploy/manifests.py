"""Rendering the kustomize overlays and reading the rendered resources (used by tests/deploy)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
OVERLAYS = ("dev", "prod")
SERVICES = ("enrollment", "assessment", "certification", "subsidy")

Resource = dict[str, Any]


class RenderError(RuntimeError):
    pass


def kustomize_command(directory: Path) -> list[str]:
    """kubectl's built-in kustomize, or a standalone kustomize; a clear error without either."""
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize", str(directory)]
    if kustomize := shutil.which("kustomize"):
        return [kustomize, "build", str(directory)]
    raise RenderError(
        "Rendering deploy/ needs kubectl (with its built-in kustomize, kubectl >= 1.27) or a "
        "standalone kustomize >= 5 on PATH. The python-svc machine image ships /usr/bin/kubectl; "
        "elsewhere install one of them (deploy/README.md, 'Checking the manifests')."
    )


def render(directory: Path) -> list[Resource]:
    command = kustomize_command(directory)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RenderError(f"{' '.join(command)} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@dataclass(frozen=True)
class Rendered:
    """The resources one overlay renders to."""

    overlay: str
    resources: list[Resource]

    def of_kind(self, kind: str) -> list[Resource]:
        return [r for r in self.resources if r["kind"] == kind]

    def get(self, kind: str, name: str) -> Resource:
        found = [r for r in self.of_kind(kind) if r["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.overlay}: expected one {kind} {name!r}, found {len(found)}"
        return found[0]

    def find(self, kind: str, name: str) -> Resource | None:
        found = [r for r in self.of_kind(kind) if r["metadata"]["name"] == name]
        return found[0] if found else None

    def workloads(self) -> Iterator[Resource]:
        """Everything that has a pod template."""
        yield from (r for r in self.resources if r["kind"] in ("Deployment", "Job"))

    def deployment(self, service: str) -> Resource:
        return self.get("Deployment", service)

    def schema_job(self, service: str) -> Resource:
        return self.get("Job", f"{service}-schema")

    def container_environment(
        self, workload: Resource, container: dict[str, Any]
    ) -> dict[str, Any]:
        """Name -> value (str) or the `valueFrom` mapping, as the container would see them.

        envFrom ConfigMaps first, then `env` (which wins), as Kubernetes does.
        """
        environment: dict[str, Any] = {}
        for source in container.get("envFrom", []):
            assert "configMapRef" in source, (
                f"{workload['metadata']['name']}: envFrom only from ConfigMaps (Secrets by key)"
            )
            config_map = self.get("ConfigMap", source["configMapRef"]["name"])
            environment.update(config_map.get("data", {}))
        for variable in container.get("env", []):
            environment[variable["name"]] = (
                variable["value"] if "value" in variable else variable["valueFrom"]
            )
        return environment


def pod_spec(workload: Resource) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def containers(workload: Resource) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def service_of(resource: Resource) -> str | None:
    return resource["metadata"].get("labels", {}).get("app.kubernetes.io/name")


def definition(service: str) -> Any:
    """heze_<service>.main.definition(): what the code publishes and subscribes to, its settings."""
    return importlib.import_module(f"heze_{service}.main").definition()


def settings_class(service: str) -> type:
    return type(definition(service).settings)
