"""The orphaned events of every service (what a restored database lost from its log but its
topic still holds) with the effects each caused downstream: the consumers' events whose cause
(causation id) is the orphan, found in their audit trail of the orphan's subject."""

from __future__ import annotations

from typing import Any

import httpx

from heze_system.system import SERVICES


async def orphans_with_effects(urls: dict[str, str], token: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    report = []
    async with httpx.AsyncClient(headers=headers, timeout=120) as http:
        for producer in SERVICES:
            answer = await http.get(f"{urls[producer]}/audit/orphans")
            answer.raise_for_status()
            trails: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for orphan in answer.json()["orphans"]:
                effects = []
                for consumer in SERVICES:
                    if consumer == producer:
                        continue
                    key = (consumer, orphan["subject_id"])
                    if key not in trails:  # one trail per subject and service
                        trail = await http.get(
                            f"{urls[consumer]}/audit/trail/{orphan['subject_id']}"
                        )
                        trail.raise_for_status()
                        trails[key] = trail.json()
                    effects += [
                        {k: event[k] for k in ("service", "aggregate_id", "version", "topic")}
                        for event in trails[key]
                        if event["causation_id"] == orphan["event_id"]
                    ]
                report.append({"producer": producer, **orphan, "effects": effects})
    return report
