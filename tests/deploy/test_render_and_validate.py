"""The overlays render, and every rendered resource validates against a schema: the core API
strictly (kubernetes-validate), the operators' resources against deploy/schemas/."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from referencing import Registry
from referencing import Resource as SchemaResource

from tests.deploy.manifests import DEPLOY, SERVICES, Rendered, render

# The oldest Kubernetes minor the manifests support, and the newest the locked
# kubernetes-validate ships: a field missing from the first or removed from the second fails.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
OPERATOR_GROUPS = ("kafka.strimzi.io", "postgresql.cnpg.io", "barmancloud.cnpg.io")
SCHEMAS = DEPLOY / "schemas"


@cache
def operator_schemas() -> tuple[dict[tuple[str, str], dict[str, Any]], Registry]:
    """(apiVersion, kind) -> schema, and a registry that resolves their shared defs."""
    by_kind: dict[tuple[str, str], dict[str, Any]] = {}
    registry: Registry = Registry()
    for path in sorted(SCHEMAS.glob("*.yaml")):
        schema = yaml.safe_load(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        registry = registry.with_resource(schema["$id"], SchemaResource.from_contents(schema))
        if path.name != "defs.yaml":
            api_version = schema["properties"]["apiVersion"]["const"]
            kind = schema["properties"]["kind"]["const"]
            assert path.name == f"{api_version.replace('/', '-')}-{kind}.yaml", path.name
            by_kind[(api_version, kind)] = schema
    return by_kind, registry


def operator_errors(resource: dict[str, Any]) -> list[str]:
    schemas, registry = operator_schemas()
    key = (resource["apiVersion"], resource["kind"])
    if key not in schemas:
        return [f"no schema in deploy/schemas/ for {key[0]} {key[1]}"]
    validator = jsonschema.Draft202012Validator(schemas[key], registry=registry)
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(resource)
    ]


def is_operator_resource(resource: dict[str, Any]) -> bool:
    return resource["apiVersion"].split("/")[0] in OPERATOR_GROUPS


def name_of(resource: dict[str, Any]) -> str:
    return f"{resource['kind']}/{resource['metadata']['name']}"


def test_base_renders_too() -> None:
    kinds = {r["kind"] for r in render(DEPLOY / "base")}
    assert {"Deployment", "Job", "Kafka", "KafkaTopic", "KafkaUser", "Cluster"} <= kinds


def test_overlay_renders_everything_for_each_service(rendered: Rendered) -> None:
    for service in SERVICES:
        rendered.deployment(service)
        rendered.schema_job(service)
        rendered.get("Service", service)
        rendered.get("ServiceAccount", service)
        rendered.get("NetworkPolicy", service)
        rendered.get("KafkaUser", service)
        rendered.get("Cluster", f"{service}-db")
    assert len(rendered.of_kind("Kafka")) == 1
    assert rendered.of_kind("KafkaNodePool")
    assert len(rendered.of_kind("Namespace")) == 1
    namespaces = {
        r["metadata"].get("namespace") for r in rendered.resources if r["kind"] != "Namespace"
    }
    assert namespaces == {"heze"}, "every namespaced resource lands in the heze namespace"


@pytest.mark.parametrize("kubernetes_version", KUBERNETES_VERSIONS)
def test_core_resources_validate_strictly(rendered: Rendered, kubernetes_version: str) -> None:
    failures = []
    for resource in rendered.resources:
        if is_operator_resource(resource):
            continue
        try:
            kubernetes_validate.validate(copy.deepcopy(resource), kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(map(str, error.path))
            failures.append(f"{name_of(resource)}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            failures.append(f"{name_of(resource)}: {error.message}")
    assert not failures, (
        f"{rendered.overlay} against Kubernetes {kubernetes_version}:\n" + "\n".join(failures)
    )


def test_operator_resources_validate_against_their_schemas(rendered: Rendered) -> None:
    operator_resources = [r for r in rendered.resources if is_operator_resource(r)]
    assert operator_resources
    failures = [
        f"{name_of(resource)}: {error}"
        for resource in operator_resources
        for error in operator_errors(resource)
    ]
    assert not failures, f"{rendered.overlay}:\n" + "\n".join(failures)


def test_every_rendered_resource_is_checked_by_one_of_the_two(rendered: Rendered) -> None:
    """Nothing slips through unvalidated: a new kind needs a core schema or one in deploy/schemas."""
    schemas, _ = operator_schemas()
    for resource in rendered.resources:
        if is_operator_resource(resource):
            assert (resource["apiVersion"], resource["kind"]) in schemas, name_of(resource)
        else:
            kubernetes_validate.validate(
                copy.deepcopy(resource), KUBERNETES_VERSIONS[0], strict=True
            )


@pytest.mark.parametrize(
    ("kind", "mutate", "why"),
    [
        (
            "KafkaUser",
            lambda r: r["spec"]["authorization"]["acls"][0].update(operation="Write"),
            "the v1beta2 `operation` field is gone in v1",
        ),
        ("KafkaTopic", lambda r: r["spec"].update(replicationFactor=3), "a misspelt field"),
        ("Kafka", lambda r: r["spec"].update(zookeeper={"replicas": 3}), "ZooKeeper is gone"),
        (
            "Cluster",
            lambda r: r["spec"].update(backup={"barmanObjectStore": {}}),
            "in-tree Barman is replaced by the plugin here",
        ),
        ("KafkaNodePool", lambda r: r["spec"].update(roles=["zookeeper"]), "not a KRaft role"),
    ],
)
def test_schemas_reject_what_the_operator_would_not_take(
    rendered_overlays: dict[str, Rendered], kind: str, mutate: Any, why: str
) -> None:
    resource = copy.deepcopy(rendered_overlays["prod"].of_kind(kind)[0])
    mutate(resource)
    assert operator_errors(resource), why


def test_schema_files_are_all_used(rendered_overlays: dict[str, Rendered]) -> None:
    used = {
        (r["apiVersion"], r["kind"])
        for rendered in rendered_overlays.values()
        for r in rendered.resources
        if is_operator_resource(r)
    }
    schemas, _ = operator_schemas()
    assert set(schemas) == used, "a schema for a kind no manifest uses, or the reverse"


def _repository_yaml() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*.yaml") if "schemas" not in p.parts)


@pytest.mark.parametrize("path", _repository_yaml(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_manifest_file_is_valid_yaml(path: Path) -> None:
    assert list(yaml.safe_load_all(path.read_text())) is not None
