"""The demo scenario's paced stages (what `./heze bench` runs at half speed): each journey of a
paced stage starts no earlier than its slot at the given rate, and every stage records the rate
it ran at."""

from __future__ import annotations

import asyncio

from heze_system.demo.scenario import Journey, Scenario


async def test_a_paced_stage_starts_each_journey_at_its_slot_and_records_its_rate() -> None:
    rate = 40.0
    scenario = Scenario(None, 6, pace={"paced": rate})  # type: ignore[arg-type]  # no party is called
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def step(_: Journey) -> None:
        starts.append(loop.time())

    began = loop.time()
    await scenario.each(scenario.world.journeys, step, "paced")
    await scenario.each(scenario.world.journeys, step, "unpaced")
    paced = sorted(starts[:6])
    early = 0.001  # the event loop may run a timer this much before its time
    assert all(start >= began + n / rate - early for n, start in enumerate(paced))
    assert set(scenario.stage_rates) == {"paced", "unpaced"}
    assert 0 < scenario.stage_rates["paced"] <= 6 / (5 / rate - early)  # six starts, five gaps
