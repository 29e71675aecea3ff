"""What ``make bench`` asks of the system: the plans of its scenarios, one per simulator
process, and what every simulated station of the bench shares."""

from __future__ import annotations

import argparse
from typing import Any

from opencpms_simulator.load import Credential, LoadPlan, Mix

# Handshakes in flight per simulator process in the boot storm. 100 and 500 booted the fleet
# equally fast here (the machine is the limit either way); 500 only queued handshakes past the
# gateway's RPC timeout, which the stations then had to retry.
BOOT_CONNECTS_PER_PROCESS = 100
STEADY_RAMP_PER_S = 100.0  # the whole fleet, shared among the simulator processes
FLEET_DEFAULTS: dict[str, Any] = {"id_tag": "BENCHTAG", "versions": ("1.6", "2.0.1")}


def spread(fleet: list[Credential], urls: list[str]) -> list[tuple[str, list[Credential]]]:
    """Stations shared among the simulator processes (each connects to its gateway process),
    as a load balancer would share them among gateways."""
    return [(url, fleet[n :: len(urls)]) for n, url in enumerate(urls)]


def fixed_scenarios(
    args: argparse.Namespace, fleet: list[Credential], urls: list[str]
) -> list[tuple[str, list[LoadPlan]]]:
    """Scenarios d, a and b, each as one plan per simulator process."""
    steady_ramp_per_process = STEADY_RAMP_PER_S / len(urls)
    return [
        (
            "d. gateway ceiling (Heartbeat, closed loop)",
            _closed_loop(
                fleet[: args.closed_loop_stations], urls, "heartbeat", duration_s=args.seconds / 2
            ),
        ),
        (
            "a. boot storm",
            [
                LoadPlan(
                    url=url,
                    stations=part,
                    duration_s=120,
                    mix="boot",
                    stop_when_booted=True,
                    connect_concurrency=args.boot_connects,
                    **FLEET_DEFAULTS,
                )
                for url, part in spread(fleet, urls)
            ],
        ),
        (
            "b. steady state (full mix, meter values every 5 s)",
            [
                LoadPlan(
                    url=url,
                    stations=part,
                    # The fleet joins at a rate the boot storm showed the system takes, then
                    # runs for the steady-state length.
                    duration_s=len(part) / steady_ramp_per_process + args.seconds,
                    mix="full",
                    meter_s=5.0,
                    idle_s=5.0,
                    ramp_per_s=steady_ramp_per_process,
                    connect_concurrency=500,
                    **FLEET_DEFAULTS,
                )
                for url, part in spread(fleet, urls)
            ],
        ),
    ]


def saturation_step(
    args: argparse.Namespace, fleet: list[Credential], urls: list[str], stations: int
) -> list[LoadPlan]:
    """One step of scenario c: ``stations`` closed-loop stations on the full mix."""
    return _closed_loop(fleet[:stations], urls, "full", duration_s=args.seconds / 3)


def _closed_loop(
    stations: list[Credential], urls: list[str], mix: Mix, *, duration_s: float
) -> list[LoadPlan]:
    return [
        LoadPlan(
            url=url,
            stations=part,
            duration_s=duration_s,
            mix=mix,
            closed_loop=True,
            **FLEET_DEFAULTS,
        )
        for url, part in spread(stations, urls)
    ]


class SaturationSteps:
    """The station counts of scenario c's steps: doubling from ``start`` until a step's p99
    passes the limit or ``most`` is reached; then, between the largest step within the limit
    and the smallest past it, ``refinements`` steps halving the gap, so the rate the system
    answers within the limit is found more closely than a doubling finds it (from 40 within
    and 80 past, say: 60, then 50 or 70)."""

    def __init__(self, start: int, most: int, *, refinements: int = 2) -> None:
        self._next: int | None = start if 1 <= start <= most else None
        self._most = most
        self._refinements = refinements
        self._within = 0  # the largest step within the limit so far
        self._past: int | None = None  # the smallest step past it

    def next(self) -> int | None:
        """Stations of the step to run next; None once done."""
        return self._next

    def record(self, stations: int, within: bool) -> None:
        """What the step of ``stations`` came to: p99 within the limit or not."""
        if within:
            self._within = max(self._within, stations)
        else:
            self._past = stations if self._past is None else min(self._past, stations)
        if self._past is None:
            doubled = stations * 2
            self._next = doubled if doubled <= self._most else None
            return
        midway = (self._within + self._past) // 2
        if self._refinements <= 0 or midway in (self._within, self._past):
            self._next = None
            return
        self._refinements -= 1
        self._next = midway
