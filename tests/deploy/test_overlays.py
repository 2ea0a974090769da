"""What distinguishes the overlays: dev is small, prod is replicated, spread and backed up."""

from __future__ import annotations

from heze_contracts.topics import PRODUCTION_PARTITIONS
from tests.deploy.manifests import SERVICES, Rendered


def kafka_config(rendered: Rendered) -> dict[str, object]:
    (kafka,) = rendered.of_kind("Kafka")
    return kafka["spec"]["kafka"]["config"]


def test_dev_is_one_of_everything(rendered_overlays: dict[str, Rendered]) -> None:
    dev = rendered_overlays["dev"]
    (pool,) = dev.of_kind("KafkaNodePool")
    assert pool["spec"]["replicas"] == 1
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]
    assert kafka_config(dev)["default.replication.factor"] == 1
    assert kafka_config(dev)["offsets.topic.replication.factor"] == 1
    for topic in dev.of_kind("KafkaTopic"):
        assert topic["spec"]["replicas"] == 1
    for service in SERVICES:
        assert dev.deployment(service)["spec"]["replicas"] == 1
        assert dev.get("Cluster", f"{service}-db")["spec"]["instances"] == 1
    assert not dev.of_kind("HorizontalPodAutoscaler") and not dev.of_kind("ObjectStore")


def test_prod_kafka_is_three_controllers_three_brokers(
    rendered_overlays: dict[str, Rendered],
) -> None:
    prod = rendered_overlays["prod"]
    pools = {p["metadata"]["name"]: p["spec"] for p in prod.of_kind("KafkaNodePool")}
    roles = sorted((tuple(spec["roles"]), spec["replicas"]) for spec in pools.values())
    assert roles == [(("broker",), 3), (("controller",), 3)]
    for spec in pools.values():
        assert all(volume["deleteClaim"] is False for volume in spec["storage"]["volumes"])
    config = kafka_config(prod)
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    assert config["unclean.leader.election.enable"] is False
    for topic in prod.of_kind("KafkaTopic"):
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == 2


def test_prod_services_are_replicated_spread_and_protected(
    rendered_overlays: dict[str, Rendered],
) -> None:
    prod = rendered_overlays["prod"]
    for service in SERVICES:
        deployment = prod.deployment(service)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
        autoscaler = prod.get("HorizontalPodAutoscaler", service)["spec"]
        assert autoscaler["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": service,
        }
        # More consumers than partitions would sit idle.
        assert 2 <= autoscaler["minReplicas"] <= autoscaler["maxReplicas"] <= PRODUCTION_PARTITIONS
        budget = prod.get("PodDisruptionBudget", service)["spec"]
        assert budget["selector"]["matchLabels"].items() <= pod_labels.items()
        assert budget.get("maxUnavailable") == 1
        (term,) = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"
        ]
        assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        assert term["podAffinityTerm"]["matchLabelKeys"] == ["app.kubernetes.io/name"]


def test_prod_databases_are_replicated_and_backed_up(
    rendered_overlays: dict[str, Rendered],
) -> None:
    prod = rendered_overlays["prod"]
    stores = {s["metadata"]["name"]: s for s in prod.of_kind("ObjectStore")}
    schedules = {b["spec"]["cluster"]["name"]: b["spec"] for b in prod.of_kind("ScheduledBackup")}
    for service in SERVICES:
        cluster = prod.get("Cluster", f"{service}-db")["spec"]
        assert cluster["instances"] == 3
        assert cluster["postgresql"]["synchronous"]["number"] >= 1
        (plugin,) = cluster["plugins"]
        assert (
            plugin["name"] == "barman-cloud.cloudnative-pg.io" and plugin["isWALArchiver"] is True
        )
        store = stores[plugin["parameters"]["barmanObjectName"]]
        assert store["spec"]["retentionPolicy"]
        assert (
            store["spec"]["configuration"]["s3Credentials"]["accessKeyId"]["name"]
            == "heze-backup-s3"
        )
        schedule = schedules[f"{service}-db"]
        assert schedule["method"] == "plugin"
        assert schedule["pluginConfiguration"]["name"] == plugin["name"]
    destinations = [s["spec"]["configuration"]["destinationPath"] for s in stores.values()]
    assert len(set(destinations)) == len(SERVICES), "one backup location per database"
