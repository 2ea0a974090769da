"""Policy over the rendered manifests: non-root, limits, pinned images, no secret literals."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.manifests import DEPLOY, Rendered, containers, pod_spec

SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|CIPHER|PRIVATE|CREDENTIAL|(^|_)KEY$", re.IGNORECASE
)
URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def workload_ids(rendered: Rendered) -> list[tuple[str, dict[str, Any]]]:
    return [(w["metadata"]["name"], w) for w in rendered.workloads()]


def test_no_container_runs_as_root(rendered: Rendered) -> None:
    for name, workload in workload_ids(rendered):
        pod = pod_spec(workload).get("securityContext", {})
        assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        for container in containers(workload):
            context = {**pod, **container.get("securityContext", {})}
            where = f"{name}/{container['name']}"
            assert context.get("runAsNonRoot") is True, where
            assert context.get("runAsUser", 1) != 0 and context.get("runAsGroup", 1) != 0, where
            assert context.get("allowPrivilegeEscalation") is False, where
            assert context.get("readOnlyRootFilesystem") is True, where
            assert context.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not context.get("capabilities", {}).get("add"), where
            assert not context.get("privileged", False), where


def test_every_container_has_limits(rendered: Rendered) -> None:
    for name, workload in workload_ids(rendered):
        for container in containers(workload):
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(
                resources.get("limits", {})
            ), f"{name}/{container['name']}"
            assert {"cpu", "memory"} <= set(
                resources.get("requests", {})
            ), f"{name}/{container['name']}"
    # The operators' pods, where the manifests size them.
    for cluster in rendered.of_kind("Cluster"):
        assert {"cpu", "memory"} <= set(cluster["spec"]["resources"]["limits"])
    for pool in rendered.of_kind("KafkaNodePool"):
        assert {"cpu", "memory"} <= set(pool["spec"]["resources"]["limits"])


def test_images_are_pinned(rendered: Rendered) -> None:
    images = [c["image"] for _, w in workload_ids(rendered) for c in containers(w)]
    images += [
        c["spec"]["imageName"] for c in rendered.of_kind("Cluster") if "imageName" in c["spec"]
    ]
    for image in images:
        name, _, digest = image.partition("@")
        tag = name.rpartition(":")[2] if ":" in name.rpartition("/")[2] else ""
        assert digest or tag, f"{image}: no tag"
        assert tag != "latest", f"{image}: latest is not a version"


def test_no_secret_values_in_the_manifests(rendered: Rendered) -> None:
    for secret in rendered.of_kind("Secret"):
        assert not secret.get("data") and not secret.get(
            "stringData"
        ), f"Secret {secret['metadata']['name']} carries values: create it in the cluster instead"
    for name, workload in workload_ids(rendered):
        for container in containers(workload):
            for variable in container.get("env", []):
                if "value" in variable:
                    assert not SECRET_NAME.search(
                        variable["name"]
                    ), f"{name}: {variable['name']} literal"
                    assert not URL_WITH_PASSWORD.search(
                        variable["value"]
                    ), f"{name}: {variable['name']}"
    for config_map in rendered.of_kind("ConfigMap"):
        for key, value in config_map.get("data", {}).items():
            assert not URL_WITH_PASSWORD.search(value), f"{config_map['metadata']['name']}: {key}"
            if SECRET_NAME.search(key):
                # Only where a secret lives (a file path), never the secret itself.
                assert value.startswith("/"), f"{config_map['metadata']['name']}: {key}={value!r}"


def test_no_private_key_or_password_url_in_deploy_files() -> None:
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not PRIVATE_KEY.search(text), path
            assert not URL_WITH_PASSWORD.search(text), path


def test_service_accounts_carry_no_token(rendered: Rendered) -> None:
    for account in rendered.of_kind("ServiceAccount"):
        assert account.get("automountServiceAccountToken") is False, account["metadata"]["name"]
    for name, workload in workload_ids(rendered):
        assert pod_spec(workload).get("automountServiceAccountToken") is False, name


def test_writable_scratch_is_an_empty_dir(rendered: Rendered) -> None:
    for name, workload in workload_ids(rendered):
        volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
        for container in containers(workload):
            tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert (
                tmp and "emptyDir" in volumes[tmp[0]["name"]]
            ), f"{name}: /tmp must be an emptyDir"
            assert volumes[tmp[0]["name"]]["emptyDir"].get("sizeLimit"), name
            for mount in container.get("volumeMounts", []):
                if "secret" in volumes[mount["name"]]:
                    assert mount.get("readOnly") is True, f"{name}: {mount['mountPath']}"


@pytest.mark.parametrize("kind", ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"])
def test_services_get_no_api_rights(rendered: Rendered, kind: str) -> None:
    assert not rendered.of_kind(kind)
