"""Every service process has the same shape: health, metrics, OpenAPI and AsyncAPI documents."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from heze_common.runtime import create_app
from heze_common.testing import running, service_settings

SERVICES = ["enrollment", "assessment", "certification", "subsidy"]


@pytest.mark.parametrize("service", SERVICES)
async def test_service_serves_health_metrics_and_documents(
    service: str, database_url: str, kafka_bootstrap_servers: str, topic_prefix: str
) -> None:
    main = importlib.import_module(f"heze_{service}.main")
    settings_class = type(main.definition().settings)
    settings = service_settings(
        settings_class,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=topic_prefix,
    )
    async with running(create_app(main.definition(settings))) as client:
        assert (await client.get("/health/live")).json() == {"status": "ok"}
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] in (
            {"database": "ok", "broker": "ok", "consumer": state} for state in ("ok", "joining")
        )
        metrics = (await client.get("/metrics")).text
        assert "heze_relay_lag_events" in metrics
        assert (
            (await client.get("/openapi.json"))
            .json()["info"]["title"]
            .endswith(f"{service} service")
        )
        assert (await client.get("/asyncapi.json")).json()["asyncapi"].startswith("3.")


async def test_a_consumer_that_failed_to_start_makes_the_service_not_ready(
    database_url: str, kafka_bootstrap_servers: str, topic_prefix: str
) -> None:
    """The consumer joins its group in the background (so a restart serves in seconds); if
    that start fails, readiness says so instead of serving without a consumer."""
    main = importlib.import_module("heze_subsidy.main")
    settings = service_settings(
        type(main.definition().settings),
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=topic_prefix,
    )
    app = create_app(main.definition(settings))
    async with running(app) as client:
        assert (await client.get("/health/ready")).status_code == 200

        async def refused() -> None:
            raise ConnectionRefusedError("group coordinator refused the join")

        failed = asyncio.create_task(refused())
        await asyncio.gather(failed, return_exceptions=True)
        app.state.consuming = failed
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["consumer"] == "unavailable: RuntimeError"


async def test_a_task_that_outlives_its_service_fails_the_fixture() -> None:
    """The check `running()` makes when a service stops: a leftover task fails the test."""
    started = asyncio.Event()

    @contextlib.asynccontextmanager
    async def leaky_lifespan(_: FastAPI) -> AsyncIterator[None]:
        async def poll_forever() -> None:
            started.set()
            while True:
                await asyncio.sleep(0.01)

        asyncio.create_task(poll_forever(), name="leaky-relay")
        yield  # and never cancels it, as a service with a broken shutdown would

    with pytest.raises(AssertionError, match="outlived their service.*leaky-relay"):
        async with running(FastAPI(lifespan=leaky_lifespan), task_grace_seconds=0.2):
            await started.wait()
    await asyncio.sleep(0)  # the survivor was cancelled by the check
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "leaky-relay" and not t.done()]
