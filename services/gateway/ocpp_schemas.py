"""The OCPP JSON schemas shipped in the ``ocpp`` package, compiled once at start-up.

``fastjsonschema`` turns each schema into Python code: a check costs about 10 µs instead of the
150-300 µs of the ``ocpp`` package's per-call ``jsonschema`` validation in a thread pool
(ARCHITECTURE §7).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp

Validator = Callable[[Any], Any]

_PACKAGE_DIRS = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}


class SchemaViolation(Exception):
    """A payload broke its schema. ``rule`` is the JSON-schema keyword that failed."""

    def __init__(self, *, rule: str, path: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.path = path
        self.message = message


class SchemaSet:
    """Request and response validators of one OCPP version, keyed by action."""

    def __init__(self, version: str) -> None:
        self.version = version
        directory = Path(ocpp.__file__).parent / _PACKAGE_DIRS[version] / "schemas"
        self._requests: dict[str, Validator] = {}
        self._responses: dict[str, Validator] = {}
        for path in sorted(directory.glob("*.json")):
            name = path.stem
            if name.endswith("Response"):
                self._responses[name.removesuffix("Response")] = _compile(path)
            else:
                self._requests[name.removesuffix("Request")] = _compile(path)

    def knows(self, action: str) -> bool:
        return action in self._requests

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self._requests)

    def check_request(self, action: str, payload: Any) -> None:
        _check(self._requests[action], payload)

    def check_response(self, action: str, payload: Any) -> None:
        _check(self._responses[action], payload)


def _check(validator: Validator, payload: Any) -> None:
    try:
        validator(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise SchemaViolation(
            rule=exc.rule or "", path=exc.name or "", message=exc.message
        ) from None


def _compile(path: Path) -> Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    _drop_float_multiples(schema)
    # Formats (date-time, uri) are not checked here: stations in the field send timestamps
    # without a zone or with a comma; translate parses them leniently instead of refusing.
    return fastjsonschema.compile(schema, use_formats=False)


def _drop_float_multiples(node: Any) -> None:
    """OCPP 1.6 puts ``multipleOf: 0.1`` on charging-rate decimals; binary floats make 21.4
    fail that check, so it is dropped rather than refusing valid schedules."""
    if isinstance(node, dict):
        if isinstance(node.get("multipleOf"), float):
            del node["multipleOf"]
        for value in node.values():
            _drop_float_multiples(value)
    elif isinstance(node, list):
        for value in node:
            _drop_float_multiples(value)


@cache
def schemas(version: str) -> SchemaSet:
    return SchemaSet(version)
