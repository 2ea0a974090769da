"""Committed JSON Schemas of every event version, and the backward-compatibility check on them.

    python -m heze_contracts.schemas write   # write new and compatibly changed schemas
    python -m heze_contracts.schemas check   # exit 1 on a missing, stale or incompatible schema

"Compatible" means a reader of the current schema accepts every message valid under the
published one. A published version never changes incompatibly: add a new schema_version.
"""

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from heze_contracts.catalogue import CATALOGUE
from heze_contracts.envelope import IntegrationEvent

# contracts/src/heze_contracts/schemas.py -> contracts/schemas (the package is installed editable).
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

Schema = dict[str, Any]

# Keywords whose larger (first set) or smaller (second set) value accepts fewer messages.
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def schema_of(event: type[IntegrationEvent]) -> Schema:
    return {"$schema": DIALECT, **event.model_json_schema()}


def schema_path(event: type[IntegrationEvent], directory: Path = SCHEMA_DIR) -> Path:
    return directory / event.PRODUCER.value / f"{event.EVENT_TYPE}.v{event.SCHEMA_VERSION}.json"


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def incompatibilities(published: Schema, current: Schema) -> list[str]:
    """Changes that make `current` reject messages valid under `published`, by JSON path."""
    problems: list[str] = []

    def resolve(schema: Schema, root: Schema) -> Schema:
        while "$ref" in schema:
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**root["$defs"][schema["$ref"].removeprefix("#/$defs/")], **siblings}
        return schema

    def branches(schema: Schema, root: Schema) -> list[Schema]:
        schema = resolve(schema, root)
        return [resolve(branch, root) for branch in schema.get("anyOf", [schema])]

    def compare(old: Schema, new: Schema, path: str) -> None:
        new_branches = branches(new, current)
        for old_branch in branches(old, published):
            match = next((b for b in new_branches if b.get("type") == old_branch.get("type")), None)
            if match is None:
                found = sorted(str(b.get("type")) for b in new_branches)
                problems.append(
                    f"{path}: type {old_branch.get('type')} changed to {' | '.join(found)}"
                )
            else:
                compare_same_type(old_branch, match, path)

    def compare_same_type(old: Schema, new: Schema, path: str) -> None:
        if old.get("format") != new.get("format"):
            problems.append(
                f"{path}: format changed from {old.get('format')} to {new.get('format')}"
            )
        old_values, new_values = _allowed_values(old), _allowed_values(new)
        if new_values is not None:
            if old_values is None:
                problems.append(f"{path}: now restricted to {sorted(new_values, key=str)}")
            elif lost := old_values - new_values:
                problems.append(f"{path}: const/enum no longer accepts {sorted(lost, key=str)}")
        if "pattern" in new and old.get("pattern") != new["pattern"]:
            problems.append(
                f"{path}: pattern changed from {old.get('pattern')} to {new['pattern']}"
            )
        for keyword in _LOWER_BOUNDS + _UPPER_BOUNDS:
            if _tightened(keyword, old, new):
                problems.append(
                    f"{path}: {keyword} tightened from {old.get(keyword)} to {new[keyword]}"
                )
        compare_object(old, new, path)
        if "items" in old and "items" in new:
            compare(old["items"], new["items"], f"{path}[]")

    def compare_object(old: Schema, new: Schema, path: str) -> None:
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        for name, old_property in old_properties.items():
            if name in new_properties:
                compare(old_property, new_properties[name], f"{path}.{name}")
            else:
                problems.append(f"{path}.{name}: property removed")
        for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
            problems.append(f"{path}.{name}: property became required")
        old_extra, new_extra = (
            old.get("additionalProperties", True),
            new.get("additionalProperties", True),
        )
        if new_extra is False and old_extra is not False:
            problems.append(f"{path}: additional properties no longer allowed")
        elif isinstance(old_extra, dict) and isinstance(new_extra, dict):
            compare(old_extra, new_extra, f"{path}{{}}")
        if "propertyNames" in new:
            compare(old.get("propertyNames", {}), new["propertyNames"], f"{path}{{key}}")

    compare(published, current, "$")
    return problems


def _tightened(keyword: str, old: Schema, new: Schema) -> bool:
    if keyword not in new:
        return False
    if keyword not in old:
        return True
    return new[keyword] > old[keyword] if keyword in _LOWER_BOUNDS else new[keyword] < old[keyword]


def _allowed_values(schema: Schema) -> set[Any] | None:
    if "const" in schema:
        return {schema["const"]}
    return set(schema["enum"]) if "enum" in schema else None


def write(
    directory: Path = SCHEMA_DIR, events: Iterable[type[IntegrationEvent]] | None = None
) -> tuple[list[Path], list[str]]:
    """Write new and compatibly changed schemas; return the files written and the refusals."""
    written, refusals = [], []
    for event in CATALOGUE.values() if events is None else events:
        path, state, problems = _state(event, directory)
        if state == "incompatible":
            refusals.append(_refusal(event, path, problems))
        elif state != "current":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(schema_of(event)), encoding="utf-8", newline="\n")
            written.append(path)
    return written, refusals


def check(
    directory: Path = SCHEMA_DIR, events: Iterable[type[IntegrationEvent]] | None = None
) -> list[str]:
    """Every schema file that is missing, out of date, incompatible or orphaned."""
    reports, expected = [], set()
    for event in CATALOGUE.values() if events is None else events:
        path, state, problems = _state(event, directory)
        expected.add(path)
        if state == "incompatible":
            reports.append(_refusal(event, path, problems))
        elif state != "current":
            reports.append(f"{path}: {state}")
    orphans = sorted(set(directory.glob("*/*.json")) - expected)
    return reports + [f"{path}: no event in the catalogue" for path in orphans]


def _state(event: type[IntegrationEvent], directory: Path) -> tuple[Path, str, list[str]]:
    """Whether the event's file is missing, incompatible, out of date or current."""
    path, current = schema_path(event, directory), schema_of(event)
    if not path.exists():
        return path, "missing", []
    committed = path.read_text(encoding="utf-8")
    if problems := incompatibilities(json.loads(committed), current):
        return path, "incompatible", problems
    return path, "current" if committed == render(current) else "out of date", []


def _refusal(event: type[IntegrationEvent], path: Path, problems: list[str]) -> str:
    version = event.SCHEMA_VERSION
    return "\n  ".join(
        [
            f"{path}: incompatible with the published v{version}:",
            *problems,
            f"Keep v{version} as published; add {event.EVENT_TYPE} schema_version {version + 1}.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="heze-contracts", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["write", "check"])
    if parser.parse_args(argv).command == "write":
        written, problems = write()
        for path in written:
            print(f"wrote {path}")
    else:
        problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(CATALOGUE)} event schemas up to date in {SCHEMA_DIR}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
