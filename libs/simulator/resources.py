"""CPU and memory of the processes under test, read from /proc (Linux)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pids_named(fragment: str) -> list[int]:
    """Processes whose command line contains ``fragment``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fragment in command:
            found.append(int(entry))
    return found


@dataclass
class Usage:
    cpu_percent: float
    rss_mib: float


@dataclass
class ResourceMeter:
    """Groups of processes (``{"gateway": lambda: [pid, ...], ...}``, looked up again at each
    reading, since PostgreSQL starts a process per connection), measured between ``start`` and
    ``stop``: CPU as a percentage of one core, RSS as the sum at the end."""

    groups: dict[str, Callable[[], list[int]]]
    _cpu: dict[int, float] = field(default_factory=dict)
    _began: float = 0.0

    def start(self) -> None:
        self._began = time.monotonic()
        self._cpu = {
            pid: _safe(_cpu_seconds, pid) for pids in self.groups.values() for pid in pids()
        }

    def stop(self) -> dict[str, Usage]:
        elapsed = max(time.monotonic() - self._began, 1e-6)
        usage = {}
        for name, pids in self.groups.items():
            found = pids()
            cpu = sum(_safe(_cpu_seconds, pid) - self._cpu.get(pid, 0.0) for pid in found)
            rss = sum(_safe(rss_kib, pid) for pid in found) / 1024
            usage[name] = Usage(round(100 * cpu / elapsed, 1), round(rss, 1))
        return usage


def total_cpu_seconds(pids: list[int]) -> float:
    """The CPU the processes have used so far; one that ended meanwhile counts nothing."""
    return sum(_safe(_cpu_seconds, pid) for pid in pids)


def _safe(read: Callable[[int], float | int], pid: int) -> float:
    try:
        return float(read(pid))
    except OSError:  # the process ended
        return 0.0
