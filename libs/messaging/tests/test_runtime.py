"""How a service process runs: its garbage collector's settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from opencpms_messaging.runtime import GC_THRESHOLDS, gc_thresholds

# A process that runs as the services do and reports what its collector was set to.
REPORTER = """
import asyncio, gc, json
from opencpms_messaging.runtime import run_until_signalled

async def main(stop: asyncio.Event) -> None:
    print(json.dumps({"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}))

run_until_signalled(main)
"""


def _run_reporter(setting: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENCPMS_GC_THRESHOLDS"}
    if setting is not None:
        env["OPENCPMS_GC_THRESHOLDS"] = setting
    return subprocess.run(
        [sys.executable, "-c", REPORTER], env=env, capture_output=True, text=True, timeout=60
    )


def test_a_service_process_collects_less_often_than_cpython_and_freezes_what_it_loaded() -> None:
    result = _run_reporter(None)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert tuple(report["thresholds"]) == GC_THRESHOLDS != (700, 10, 10)
    assert report["frozen"] > 1000  # the modules and everything else loaded before the loop


def test_the_operator_can_restore_cpythons_thresholds() -> None:
    result = _run_reporter("700,10,10")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["thresholds"] == [700, 10, 10]


def test_a_malformed_setting_stops_the_process_with_what_is_expected() -> None:
    result = _run_reporter("lots")
    assert result.returncode != 0
    assert "OPENCPMS_GC_THRESHOLDS must be three integers" in result.stderr


@pytest.mark.parametrize("setting", ["1,2", "1,2,3,4", "-1,10,10", "a,b,c", "1.5,10,10"])
def test_only_three_non_negative_integers_are_thresholds(setting: str) -> None:
    with pytest.raises(ValueError, match="three integers"):
        gc_thresholds(setting)


def test_an_unset_or_empty_setting_means_the_default() -> None:
    assert gc_thresholds(None) == GC_THRESHOLDS
    assert gc_thresholds("") == GC_THRESHOLDS
    assert gc_thresholds(" 2000, 10 ,10") == (2000, 10, 10)
