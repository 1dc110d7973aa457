"""CPU and peak memory of local processes, from /proc (Linux), for the log-in measurements."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of stat)


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def postgres_pids() -> list[int]:
    """The local PostgreSQL (make infra-up, $CET_VAR/pg/data) and its backends."""
    data = Path(os.environ.get("CET_VAR", ".local")) / "pg" / "data" / "postmaster.pid"
    master = int(data.read_text().split()[0])
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


class ProcessCpu:
    """CPU spent by named groups of processes from construction to `spent()`; backends that start
    in between count from zero (`postgres_pids` is re-read at the end)."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self._groups = groups
        self._start = {pid: cpu_seconds(pid) for pids in groups.values() for pid in pids}

    def spent(self) -> dict[str, float]:
        groups = (
            {**self._groups, "postgres": sorted(set(self._groups.get("postgres", [])) | set(postgres_pids()))} if "postgres" in self._groups else self._groups
        )
        return {name: sum(max(0.0, cpu_seconds(pid) - self._start.get(pid, 0.0)) for pid in pids) for name, pids in groups.items()}
