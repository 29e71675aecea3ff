"""How many processes of each service the launcher runs: asked for as SERVICE=N."""

from __future__ import annotations

import pytest

from opencpms_launcher.system import parse_service_processes, shared_pool_environment


def test_counts_by_service() -> None:
    assert parse_service_processes([]) == {}
    assert parse_service_processes(["transactions=2", "authorization=3"]) == {
        "transactions": 2,
        "authorization": 3,
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("admin=2", "only authorization, transactions, billing"),
        ("gateway=2", "only authorization"),
        ("transactions=0", "a process count of 1 or more"),
        ("transactions=two", "a process count of 1 or more"),
        ("transactions", "a process count of 1 or more"),
    ],
)
def test_refuses_what_it_cannot_run(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_service_processes([spec])


def test_processes_of_a_service_share_its_database_connections() -> None:
    assert shared_pool_environment("transactions", 1, {}) == {}
    assert shared_pool_environment("transactions", 2, {}) == {
        "OPENCPMS_TRANSACTIONS_DB_POOL_SIZE": "10"
    }
    assert shared_pool_environment("billing", 8, {}) == {"OPENCPMS_BILLING_DB_POOL_SIZE": "4"}
    chosen = {"OPENCPMS_TRANSACTIONS_DB_POOL_SIZE": "30"}
    assert shared_pool_environment("transactions", 2, chosen) == {}
