"""Schemathesis against /openapi.json: every operation, anonymous and logged in.

Property-based requests (valid and invalid) go to the ASGI app in process; no
response may be a 5xx, and every response must match the schema (status,
content type, headers, body). Bounded examples keep it well under two minutes.

Generating the requests is most of the work and does not depend on the role, so
the examples of every operation and mode are drawn once per worker and each role
sends all of them (each a fresh copy), with its own credentials.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from api.app import create_app
from api.settings import Limits, Settings
from ledger.home import Home
from tests.api.support import cotton_story

ROLES = ("anonymous", "importer", "farm2", "cbp")

CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # A schema-valid envelope may still carry a bad signature or an invalid
            # statement, and a pattern-valid time may not exist (2026-02-30): the API
            # rightly answers 4xx to data JSON Schema cannot judge.
            "positive_data_acceptance": {"enabled": False},
            # Too many items in a batch is 413, like an oversize body.
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422, 429]
            },
        }
    }
)


@dataclass
class AppEnv:
    app: FastAPI
    headers: dict[str, dict[str, str]]


# Session-scoped: the four role runs are among the longest tests, handed out first
# (tests/durations.py) and not together, so each worker builds this once.
@pytest.fixture(scope="session")
def app_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppEnv]:
    home = Home(tmp_path_factory.mktemp("schema") / "home")
    ledger, _ = home.init(origin="custody.schema/ledger")
    story = cotton_story(home)
    for res in ledger.submit(story.envelopes):
        assert res.error is None, res.error
    ledger.store.close()
    app = create_app(Settings(home=home.path, limits=Limits(submit_rate=0, auth_rate=0)))
    tokens = app.state.services.tokens
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in ROLES[1:]:
        token, _ = tokens.issue(role, story.actors[role].key.kid, 3600)
        headers[role] = {"Authorization": f"Bearer {token}"}
    return AppEnv(app, headers)


@pytest.fixture(scope="session")
def api_schema(app_env: AppEnv) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app_env.app, config=CONFIG)


BOUNDED = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,
)
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@dataclass
class Examples:
    """The requests drawn for one operation in one generation mode."""

    label: str
    mode: GenerationMode
    cases: list[Any] = field(default_factory=list)
    unsatisfiable: bool = False  # nothing could be generated
    error: str | None = None  # generation itself failed


def _draw(op: Any, mode: GenerationMode) -> Examples:
    examples = Examples(op.label, mode)

    @given(case=op.as_strategy(generation_mode=mode))
    @BOUNDED
    def collect(case: Any) -> None:
        examples.cases.append(case)

    try:
        collect()
    except Unsatisfiable:
        examples.unsatisfiable = True
    except Exception as e:
        examples.error = str(e)
    return examples


def _fresh(case: Any) -> Any:
    """A deep copy of a generated case that shares its operation (the whole schema)."""
    memo: dict[int, Any] = {id(case.operation): case.operation}
    twin = object.__new__(type(case))
    memo[id(case)] = twin
    for name in type(case).__slots__:
        object.__setattr__(twin, name, copy.deepcopy(getattr(case, name), memo))
    return twin


# Drawn once per worker; the role runs share a group so that one worker draws them.
@pytest.fixture(scope="session")
def examples(api_schema: Any) -> list[Examples]:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 19
    return [_draw(op, mode) for op in operations for mode in MODES]


@pytest.mark.xdist_group("api_schema")
@pytest.mark.parametrize("role", ROLES)
def test_api_conforms_to_its_schema(examples: list[Examples], app_env: AppEnv, role: str) -> None:
    """Every operation, valid and invalid inputs, as ``role``; failures are collected."""
    headers = app_env.headers[role]
    failures: list[str] = []
    for drawn in examples:
        where = f"{drawn.label} [{drawn.mode.value}]"
        if drawn.unsatisfiable:
            # no parameters and no body: nothing to make invalid
            assert drawn.mode is GenerationMode.NEGATIVE, drawn.label
            continue
        if drawn.error is not None:
            failures.append(f"{where}: {drawn.error}")
            continue
        assert drawn.cases, where
        for case in drawn.cases:
            try:
                _fresh(case).call_and_validate(headers=headers)
            except Exception as e:
                failures.append(f"{where}: {e}")
                break  # the first failure of an operation and mode, as before
    assert not failures, "\n\n".join(failures)
