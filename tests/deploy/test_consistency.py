"""The manifests agree with the code they deploy: settings, topics and ACLs, databases,
probe paths, network policies and the ingress."""

from __future__ import annotations

import base64
from pathlib import PurePosixPath
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from heze_common.runtime import create_app
from heze_contracts.topics import AUDIT_CHECKPOINTS, PRODUCTION_PARTITIONS, dlq_topic
from tests.deploy.manifests import (
    SERVICES,
    Rendered,
    containers,
    definition,
    pod_spec,
    settings_class,
)

# Kafka client settings the manifests need (SASL/SCRAM over TLS, so that each service is
# its KafkaUser and the ACLs apply) but heze_common.settings does not have yet. Until it has
# them, test_kafka_client_security_settings_exist is an expected failure and these names are
# exempt from test_every_variable_is_a_settings_field; each one stops being exempt as soon
# as the field exists.
# Stand-ins for the values only the cluster knows (Secrets), good enough for validation.
SECRET_STAND_INS = {
    "DATABASE_URL": "postgresql://owner:stand-in@db-rw:5432/db",
    "CIPHER_KEY": base64.b64encode(b"\0" * 32).decode(),
    "AUDIT_SIGNING_KEY": base64.b64encode(b"\1" * 32).decode(),
}


def field_names(service: str) -> set[str]:
    return {name.upper() for name in settings_class(service).model_fields}


def environment_of(rendered: Rendered, workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod_spec(workload)["containers"]
    return rendered.container_environment(workload, container)


def resolved_settings(
    rendered: Rendered, workload: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The service's settings as the container would build them from its environment."""
    for name in field_names(service):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment_of(rendered, workload).items():
        if isinstance(value, dict):  # valueFrom: a Secret only the cluster has
            value = SECRET_STAND_INS.get(name, "stand-in")
        monkeypatch.setenv(name, value)
    return settings_class(service)(_env_file=None)


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_variable_is_a_settings_field(rendered: Rendered, service: str) -> None:
    """pydantic-settings ignores unknown variables: a misspelt one would silently do nothing."""
    known = field_names(service)
    for workload in (rendered.deployment(service), rendered.schema_job(service)):
        unknown = set(environment_of(rendered, workload)) - known
        assert (
            not unknown
        ), f"{workload['metadata']['name']} sets unknown settings {sorted(unknown)}"


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_authenticates_to_the_secured_kafka_listener(
    rendered: Rendered, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifests' SCRAM-over-TLS settings become the broker's SASL security."""
    from heze_common.kafka_security import faststream_security

    settings = resolved_settings(rendered, rendered.deployment(service), service, monkeypatch)
    monkeypatch.setattr("ssl.SSLContext.load_verify_locations", lambda *args, **kwargs: None)
    security = faststream_security(settings)
    assert type(security).__name__ == "SASLScram512"
    assert (security.username, security.use_ssl) == (service, True)


@pytest.mark.parametrize("service", SERVICES)
def test_production_settings_are_complete(
    rendered: Rendered, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production validator of ServiceSettings accepts what each overlay provides."""
    deployment = rendered.deployment(service)
    settings = resolved_settings(rendered, deployment, service, monkeypatch)
    assert settings.environment == "production"
    assert settings.service_name == service
    assert settings.create_tables is False, "tables come from the schema Job"
    assert settings.kafka_create_topics is False, "topics come from KafkaTopic resources"
    assert settings.kafka_topic_prefix == ""
    assert settings.jwt_algorithm != "HS256"
    assert settings.http_host == "0.0.0.0"
    (container,) = pod_spec(deployment)["containers"]
    assert [p["containerPort"] for p in container["ports"]] == [settings.http_port]

    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}

    def volume_holding(path: Any) -> dict[str, Any]:
        """The volume of the innermost mount that contains `path`."""
        path = PurePosixPath(str(path))
        holders = [m for m in mounts if path.is_relative_to(m)]
        assert holders, f"{service}: {path} is on no mounted volume"
        return volumes[mounts[max(holders, key=len)]["name"]]

    key_file = PurePosixPath(str(settings.jwt_public_key_file))
    key_volume = volume_holding(key_file)["secret"]
    assert key_file.name in {item["path"] for item in key_volume["items"]}
    assert "emptyDir" in volume_holding(settings.data_dir), "DATA_DIR must be writable"
    for name, value in environment_of(rendered, deployment).items():
        if name == "TRUSTED_KEYS_FILE":  # public keys: one ConfigMap every service mounts
            trust = volume_holding(value)["configMap"]
            assert trust["name"].startswith("heze-trusted-keys"), service
            assert PurePosixPath(str(value)).name in {item["path"] for item in trust["items"]}
        elif name.endswith(("_FILE", "_CAFILE")):
            assert "secret" in volume_holding(value), f"{service}: {name} is not from a Secret"

    job_settings = resolved_settings(rendered, rendered.schema_job(service), service, monkeypatch)
    assert job_settings.environment == "production"
    assert job_settings.database_url


@pytest.mark.parametrize("service", SERVICES)
def test_secrets_come_from_secret_references(rendered: Rendered, service: str) -> None:
    environment = environment_of(rendered, rendered.deployment(service))
    for name in (
        "DATABASE_URL",
        "CIPHER_KEY",
        "AUDIT_SIGNING_KEY",
        "EVENT_SIGNING_KEY",
        "KAFKA_SASL_PASSWORD",
    ):
        assert "secretKeyRef" in environment[name], f"{service}: {name} must come from a Secret"


@pytest.mark.parametrize("service", ["enrollment", "certification"])
def test_the_services_holding_personal_data_get_their_person_keys_from_a_secret(
    rendered: Rendered, service: str
) -> None:
    names = ["PERSON_MASTER_KEY", *(["HOLDER_NAME_KEY"] if service == "certification" else [])]
    for workload in (rendered.deployment(service), rendered.schema_job(service)):
        environment = environment_of(rendered, workload)
        for name in names:
            reference = environment[name]["secretKeyRef"]
            assert reference["name"] == f"{service}-person-keys", (service, name)
            assert not reference.get("optional"), f"{service}: {name} is required"


# -- Kafka -------------------------------------------------------------------------------------


def topics_of(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return {
        t["spec"].get("topicName", t["metadata"]["name"]): t for t in rendered.of_kind("KafkaTopic")
    }


def required_topics(service: str) -> tuple[set[str], set[str]]:
    """(topics the service writes, topics it reads), from the code."""
    service_definition = definition(service)
    writes = {service_definition.publishes_to, dlq_topic(service), AUDIT_CHECKPOINTS}
    return writes, set(service_definition.subscribes_to)


def acl_grants(user: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    grants: dict[tuple[str, str], set[str]] = {}
    for rule in user["spec"]["authorization"]["acls"]:
        resource = rule["resource"]
        assert rule.get("type", "allow") == "allow"
        assert resource.get("patternType", "literal") == "literal", "no prefix grants"
        assert "All" not in rule["operations"]
        grants.setdefault((resource["type"], resource["name"]), set()).update(rule["operations"])
    return grants


@pytest.mark.parametrize("service", SERVICES)
def test_every_topic_of_the_code_has_a_kafka_topic(rendered: Rendered, service: str) -> None:
    writes, reads = required_topics(service)
    topics = topics_of(rendered)
    missing = (writes | reads) - set(topics)
    assert not missing, f"{service} uses topics without a KafkaTopic: {sorted(missing)}"
    events = topics[definition(service).publishes_to]
    assert events["spec"]["partitions"] == PRODUCTION_PARTITIONS


def test_no_topic_is_unused(rendered: Rendered) -> None:
    used = set().union(*(w | r for w, r in map(required_topics, SERVICES)))
    assert set(topics_of(rendered)) == used


def test_every_topic_states_partitions_retention_and_replication(rendered: Rendered) -> None:
    for name, topic in topics_of(rendered).items():
        spec = topic["spec"]
        assert spec["partitions"] >= 1, name
        assert "retention.ms" in spec["config"], f"{name}: retention must be stated"
        assert spec["replicas"] >= 1 and spec["config"]["min.insync.replicas"] >= 1, name


@pytest.mark.parametrize("service", SERVICES)
def test_acls_allow_exactly_what_the_service_does(rendered: Rendered, service: str) -> None:
    """Write only its own topics, read only what it consumes, its own consumer group."""
    environment = environment_of(rendered, rendered.deployment(service))
    username = environment["KAFKA_SASL_USERNAME"]
    user = rendered.get("KafkaUser", username)
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    assert environment["KAFKA_SASL_PASSWORD"]["secretKeyRef"] == {
        "name": username,
        "key": "password",
    }

    grants = acl_grants(user)
    writes, reads = required_topics(service)
    written = {name for (kind, name), ops in grants.items() if kind == "topic" and "Write" in ops}
    read = {name for (kind, name), ops in grants.items() if kind == "topic" and "Read" in ops}
    groups = {name for (kind, name), ops in grants.items() if kind == "group" and "Read" in ops}
    assert written == writes
    assert read == reads
    group_id = settings_class(service)().service_name  # heze_common.consumer: group_id
    assert groups == ({group_id} if reads else set())
    assert {kind for kind, _ in grants} <= {"topic", "group"}, "no cluster-wide rights"
    for (kind, name), operations in grants.items():
        assert operations <= {
            "Read",
            "Write",
            "Describe",
        }, f"{service}: {kind} {name}: {operations}"


def test_clients_use_the_authenticated_tls_listener(rendered: Rendered) -> None:
    (kafka,) = rendered.of_kind("Kafka")
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    listeners = {listener["port"]: listener for listener in kafka["spec"]["kafka"]["listeners"]}
    for service in SERVICES:
        environment = environment_of(rendered, rendered.deployment(service))
        host, port = environment["KAFKA_BOOTSTRAP_SERVERS"].split(":")
        assert host == f"{kafka['metadata']['name']}-kafka-bootstrap"
        listener = listeners[int(port)]
        assert listener["tls"] is True
        assert listener["authentication"]["type"] == "scram-sha-512"
        assert environment["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert environment["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_its_own_database(rendered: Rendered, service: str) -> None:
    reference = environment_of(rendered, rendered.deployment(service))["DATABASE_URL"][
        "secretKeyRef"
    ]
    assert reference["key"] == "uri"
    cluster_name = reference["name"].removesuffix("-app")
    cluster = rendered.get("Cluster", cluster_name)  # CloudNativePG writes <cluster>-app
    assert cluster["spec"]["bootstrap"]["initdb"] == {"database": service, "owner": service}
    assert not cluster["spec"].get("enableSuperuserAccess", False)
    job_reference = environment_of(rendered, rendered.schema_job(service))["DATABASE_URL"]
    assert job_reference["secretKeyRef"] == reference


# -- HTTP --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http_apps() -> dict[str, FastAPI]:
    """Each service's FastAPI app, built but not started (no lifespan: no broker, no DB)."""
    apps = {}
    for service in SERVICES:
        settings = settings_class(service)(kafka_bootstrap_servers="kafka.invalid:9092")
        service_definition = type(definition(service))(
            **{**vars(definition(service)), "settings": settings}
        )
        apps[service] = create_app(service_definition)
    return apps


async def status_of(app: FastAPI, path: str) -> int:
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://service") as client:
        return (await client.get(path)).status_code


@pytest.mark.parametrize("service", SERVICES)
async def test_probe_paths_exist_in_the_app(
    rendered: Rendered, service: str, http_apps: dict[str, FastAPI]
) -> None:
    (container,) = pod_spec(rendered.deployment(service))["containers"]
    port_names = {port["name"] for port in container["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        action = container[probe]["httpGet"]
        assert action["port"] in port_names, f"{service} {probe}: unknown port {action['port']}"
        status = await status_of(http_apps[service], action["path"])
        assert status != 404, f"{service} {probe}: {action['path']} is not a route of the app"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert await status_of(http_apps[service], "/health/live") == 200


# -- network -----------------------------------------------------------------------------------


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_default_deny_and_dns(rendered: Rendered) -> None:
    deny = rendered.get("NetworkPolicy", "default-deny")
    assert deny["spec"]["podSelector"] == {}
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    dns = rendered.get("NetworkPolicy", "allow-dns")
    assert dns["spec"]["podSelector"] == {}
    assert {p["port"] for rule in dns["spec"]["egress"] for p in rule["ports"]} == {53}


SERVICE_CALLS = {
    ("certification", "enrollment"),
    *(("console", service) for service in SERVICES),
}
"""(caller, callee): the one service-to-service call, the claim check of a holder's identity,
and the web console's calls to every API."""


@pytest.mark.parametrize("service", SERVICES)
def test_service_traffic_is_limited(rendered: Rendered, service: str) -> None:
    """In: from the ingress controller, and from the services that call this one. Out: Kafka,
    its own database, the services it calls (and DNS)."""
    pod_labels = rendered.deployment(service)["spec"]["template"]["metadata"]["labels"]
    policies = [
        p
        for p in rendered.of_kind("NetworkPolicy")
        if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], pod_labels)
    ]
    assert [p["metadata"]["name"] for p in policies] == [service]
    (policy,) = policies
    ingress_controller, *callers = policy["spec"]["ingress"]
    assert [set(peer) for peer in ingress_controller["from"]] == [{"namespaceSelector"}]
    assert [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]] == [8080] * (
        1 + len(callers)
    )
    called_by = {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for rule in callers
        for peer in rule["from"]
    }
    assert called_by == {caller for caller, callee in SERVICE_CALLS if callee == service}

    (kafka,) = rendered.of_kind("Kafka")
    database = environment_of(rendered, rendered.deployment(service))["DATABASE_URL"]
    cluster = database["secretKeyRef"]["name"].removesuffix("-app")
    destinations = {
        (tuple(sorted(peer["podSelector"]["matchLabels"].items())), port["port"])
        for rule in policy["spec"]["egress"]
        for peer in rule["to"]
        for port in rule["ports"]
    }
    assert destinations == {
        (
            (
                ("strimzi.io/cluster", kafka["metadata"]["name"]),
                ("strimzi.io/kind", "Kafka"),
                ("strimzi.io/name", f"{kafka['metadata']['name']}-kafka"),
            ),
            9093,
        ),
        ((("cnpg.io/cluster", cluster),), 5432),
        *(
            (
                (("app.kubernetes.io/component", "api"), ("app.kubernetes.io/name", callee)),
                8080,
            )
            for caller, callee in SERVICE_CALLS
            if caller == service
        ),
    }
    database_policy = rendered.get("NetworkPolicy", f"{service}-db")
    assert database_policy["spec"]["podSelector"]["matchLabels"] == {"cnpg.io/cluster": cluster}
    admitted = [
        peer["podSelector"]["matchLabels"]
        for rule in database_policy["spec"]["ingress"]
        for peer in rule["from"]
        if "podSelector" in peer and "app.kubernetes.io/name" in peer["podSelector"]["matchLabels"]
    ]
    assert admitted == [{"app.kubernetes.io/name": service}], "only its own service reaches it"


def test_kafka_listener_admits_only_the_services(rendered: Rendered) -> None:
    (kafka,) = rendered.of_kind("Kafka")
    for listener in kafka["spec"]["kafka"]["listeners"]:
        (peer,) = listener["networkPolicyPeers"]
        for service in SERVICES:
            labels = rendered.deployment(service)["spec"]["template"]["metadata"]["labels"]
            assert selects(peer["podSelector"], labels)
            assert not selects(
                peer["podSelector"],
                rendered.schema_job(service)["spec"]["template"]["metadata"]["labels"],
            ), "the schema Job has no business on Kafka"


# -- ingress -----------------------------------------------------------------------------------


def test_ingress_exposes_the_four_apis_and_public_verification(rendered: Rendered) -> None:
    (ingress,) = rendered.of_kind("Ingress")
    routes = {
        (rule["host"], path["path"]): path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    for service in SERVICES:
        backends = [b for b in routes.values() if b["name"] == service]
        assert backends, f"{service} is not exposed"
        service_ports = {p["name"] for p in rendered.get("Service", service)["spec"]["ports"]}
        assert all(b["port"]["name"] in service_ports for b in backends)
    verification = [b for (_, path), b in routes.items() if path == "/public/"]
    assert [b["name"] for b in verification] == ["certification"]
    tls_hosts = {h for entry in ingress["spec"]["tls"] for h in entry["hosts"]}
    assert {host for host, _ in routes} <= tls_hosts, "every host is served over TLS"


@pytest.mark.parametrize("service", SERVICES)
def test_service_selects_the_api_pods_only(rendered: Rendered, service: str) -> None:
    selector = rendered.get("Service", service)["spec"]["selector"]
    assert selects(
        {"matchLabels": selector},
        rendered.deployment(service)["spec"]["template"]["metadata"]["labels"],
    )
    assert not selects(
        {"matchLabels": selector},
        rendered.schema_job(service)["spec"]["template"]["metadata"]["labels"],
    )
    for container in containers(rendered.deployment(service)):
        assert any(p["name"] == "http" for p in container["ports"])


def test_the_service_broker_carries_the_kafka_security() -> None:
    """create_app hands the SASL settings to FastStream's broker (not only to the admin client)."""
    from faststream.specification import AsyncAPI

    from heze_common.runtime import create_app
    from heze_enrollment.main import definition
    from heze_enrollment.settings import EnrollmentSettings

    settings = EnrollmentSettings(
        kafka_bootstrap_servers="kafka:9093",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="enrollment",
        kafka_sasl_password="stand-in",
    )
    broker = create_app(definition(settings)).state.broker
    document = AsyncAPI(broker).to_specification().to_jsonable()
    assert document["components"]["securitySchemes"] == {"scram512": {"type": "scramSha512"}}
