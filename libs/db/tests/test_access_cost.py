"""The access-path figures ``make bench`` prints, against the real PostgreSQL: every path ran
its statement and is given against the driver's baseline. Figures only, never a time limit."""

from __future__ import annotations

import pytest

from opencpms_db.access_cost import BASELINE, measure_access_paths

pytestmark = pytest.mark.integration


async def test_every_path_is_measured_against_the_baseline(database_url: str) -> None:
    figures = await measure_access_paths(database_url, calls=20)
    assert set(figures) == {
        "ORM session per call (BEGIN, statement, ROLLBACK)",
        "ORM session per call, committed",
        "Core connection per call, autocommit",
        "Core statement on an open connection",
        BASELINE,
    }
    assert figures[BASELINE]["x_baseline"] == 1.0
    assert all(f["cpu_us"] > 0 for f in figures.values())
