"""Checks each service's view of every trainee against what the scenario expects: no trainee
is stuck between stages, and nothing happened twice."""

from __future__ import annotations

from heze_contracts.enums import Role
from heze_system.demo.scenario import Journey, Parties, World


def expected_claim_status(journey: Journey) -> str:
    if "subsidy paid" in journey.stages:
        return "paid"
    if journey.plan and not journey.plan.subsidised:
        return "rejected"
    return "waiting"  # trained but no level certificate (failed the assessment): it waits for one


async def verify(world: World, parties: Parties) -> list[str]:
    problems: list[str] = []
    city, auditor = parties.token(Role.CITY_BUREAU), parties.token(Role.AUDITOR)
    for journey in world.journeys:
        if journey.trainee_id is None:
            continue
        who = f"{journey.person.name} ({journey.trainee_id})"
        record = await parties.call("enrollment", "GET", f"/trainees/{journey.trainee_id}", city)
        if "enrolled" in journey.stages:
            status = record["enrolments"][0]["status"]
            wanted = (
                "completed"
                if "completed" in journey.stages
                else "withdrawn"
                if "withdrawn" in journey.stages
                else "enrolled"
            )
            if status != wanted:
                problems.append(f"{who}: enrollment shows {status}, expected {wanted}")
        if journey.application_id:
            application = await parties.call(
                "assessment", "GET", f"/applications/{journey.application_id}", auditor
            )
            wanted = "passed" if "passed" in journey.stages else "failed"
            if application["status"] != wanted:
                problems.append(
                    f"{who}: assessment shows {application['status']}, expected {wanted}"
                )
        if journey.case_id:
            case = await parties.call("certification", "GET", f"/cases/{journey.case_id}", auditor)
            if (case["status"], case["certificate_number"]) != ("issued", journey.certificate):
                problems.append(
                    f"{who}: certification shows {case['status']} {case['certificate_number']}"
                )
            if case["holder_name"] != journey.person.name:  # learnt from enrollment by a call
                problems.append(f"{who}: the certificate names someone else")
        if journey.claim_ids:
            claim = await parties.call("subsidy", "GET", f"/claims/{journey.claim_ids[0]}", city)
            if claim["status"] != expected_claim_status(journey):
                problems.append(
                    f"{who}: subsidy claim is {claim['status']}, expected {expected_claim_status(journey)}"
                )
    # A system may have served other cohorts: count this one's people only.
    ours = {journey.trainee_id for journey in world.journeys if journey.trainee_id}
    issued = world.count("issued")
    pool = await parties.every("certification", "/talent-pool?limit=500", city)
    in_pool = sum(entry["trainee_id"] in ours for entry in pool)
    if in_pool != issued:
        problems.append(f"talent pool has {in_pool} people, expected {issued}")
    credits = await parties.call("certification", "GET", "/continuing-education/2026", city)
    credited = sum(line["trainee_id"] in ours for line in credits)
    if credited != world.count("completed"):
        problems.append(
            f"{credited} CE credits, expected {world.count('completed')} (one per completion)"
        )
    return problems
