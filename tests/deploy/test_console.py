"""The web console's manifests agree with its code: its settings are complete for production
(OpenID Connect, the services' token key), its secrets come from Secrets, it reaches the four
APIs inside the cluster and nothing else but the identity provider, and the ingress serves it."""

from __future__ import annotations

import base64
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from httpx import ASGITransport, AsyncClient

from heze_console.main import create_app
from heze_console.settings import ConsoleSettings
from tests.deploy.manifests import SERVICES, Rendered, pod_spec
from tests.deploy.test_consistency import selects

SECRETS = {"SESSION_KEY", "OIDC_CLIENT_SECRET"}


def environment(rendered: Rendered) -> dict[str, Any]:
    deployment = rendered.deployment("console")
    (container,) = pod_spec(deployment)["containers"]
    return rendered.container_environment(deployment, container)


def resolved(rendered: Rendered, monkeypatch: pytest.MonkeyPatch) -> ConsoleSettings:
    """The console's settings as its container would build them (Secrets stood in for)."""
    for name in ConsoleSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in environment(rendered).items():
        if isinstance(value, dict):
            value = base64.b64encode(b"\2" * 32).decode() if name == "SESSION_KEY" else "x" * 32
        monkeypatch.setenv(name, value)
    return ConsoleSettings(_env_file=None)  # type: ignore[call-arg]


def test_every_variable_is_a_console_setting(rendered: Rendered) -> None:
    known = {name.upper() for name in ConsoleSettings.model_fields}
    assert set(environment(rendered)) - known == set()


def test_production_settings_are_complete_and_agree_with_the_services(
    rendered: Rendered, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = resolved(rendered, monkeypatch)
    assert settings.environment == "production" and settings.oidc_issuer
    service = environment_of_a_service(rendered)
    for name in (
        "JWT_ALGORITHM",
        "JWT_PUBLIC_KEY_FILE",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWT_LEEWAY_SECONDS",
    ):
        assert environment(rendered)[name] == service[name], name
    for name in SERVICES:
        assert (
            settings.service_url(name)
            == f"http://{rendered.get('Service', name)['metadata']['name']}"
        )
    deployment = rendered.deployment("console")
    (container,) = pod_spec(deployment)["containers"]
    assert container["command"] == ["python", "-m", "heze_console.main", "serve"]
    assert [p["containerPort"] for p in container["ports"]] == [settings.http_port]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    key_file = PurePosixPath(str(settings.jwt_public_key_file))
    volume = {v["name"]: v for v in pod_spec(deployment)["volumes"]}[mounts[str(key_file.parent)]]
    assert volume["secret"]["secretName"] == "heze-jwt-public-key"


def environment_of_a_service(rendered: Rendered) -> dict[str, Any]:
    deployment = rendered.deployment("enrollment")
    (container,) = pod_spec(deployment)["containers"]
    return rendered.container_environment(deployment, container)


def test_secrets_come_from_secret_references(rendered: Rendered) -> None:
    found = environment(rendered)
    for name in SECRETS:
        assert found[name]["secretKeyRef"]["name"] == "console-secrets", name


def test_one_replica_while_sessions_live_in_memory(rendered: Rendered) -> None:
    assert rendered.deployment("console")["spec"]["replicas"] == 1
    assert not [
        h
        for h in rendered.of_kind("HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"]["name"] == "console"
    ]


def test_traffic_is_the_ingress_in_and_the_four_apis_and_the_provider_out(
    rendered: Rendered,
) -> None:
    policy = rendered.get("NetworkPolicy", "console")
    (ingress,) = policy["spec"]["ingress"]
    assert [set(peer) for peer in ingress["from"]] == [{"namespaceSelector"}]
    apis, provider = policy["spec"]["egress"]
    reached = {
        name
        for name in SERVICES
        for peer in apis["to"]
        if selects(
            peer["podSelector"], rendered.deployment(name)["spec"]["template"]["metadata"]["labels"]
        )
    }
    assert reached == set(SERVICES) and [p["port"] for p in apis["ports"]] == [8080]
    (block,) = provider["to"]
    assert "10.0.0.0/8" in block["ipBlock"]["except"]  # not into the cluster's own networks
    assert [p["port"] for p in provider["ports"]] == [443]


def test_the_ingress_serves_the_console_over_tls(rendered: Rendered) -> None:
    (ingress,) = rendered.of_kind("Ingress")
    hosts = [
        rule["host"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
        if path["backend"]["service"]["name"] == "console"
    ]
    assert hosts == ["console.heze.example"]
    assert hosts[0] in {h for entry in ingress["spec"]["tls"] for h in entry["hosts"]}


async def test_the_probe_paths_answer(
    rendered: Rendered, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "public.pem"  # the mounted Secret's file, here
    key_file.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    settings = resolved(rendered, monkeypatch).model_copy(update={"jwt_public_key_file": key_file})
    deployment = rendered.deployment("console")
    (container,) = pod_spec(deployment)["containers"]
    async with AsyncClient(
        transport=ASGITransport(app=create_app(settings)), base_url="http://console"
    ) as client:
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            answer = await client.get(container[probe]["httpGet"]["path"])
            assert answer.status_code == 200, probe
