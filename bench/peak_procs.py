"""The CPU and memory of every process of the running suite, read from /proc (bench/peak.py).

A group is a named root process and all its descendants (uv's wrapper and its python, nginx's
master and workers, PostgreSQL's postmaster and every backend). CPU is utime + stime of the live
processes plus what the root reaped from children that exited (cutime + cstime); a step's CPU is
the difference of two snapshots. Peak RSS is the largest VmHWM of one process of the group (its
high-water mark since it started).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parents[1]


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _tree(root: int, children: dict[int, list[int]]) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Sample:
    cpu_seconds: dict[str, float]
    peak_rss_kib: dict[str, int]


class Processes:
    """Named root pids; `sample()` reads every group at once."""

    def __init__(self) -> None:
        self.roots: dict[str, int] = {}

    def add(self, name: str, pid: int) -> None:
        self.roots[name] = pid

    def add_suite(self) -> None:
        """Everything `make up` runs: its pid files, Kafka's, and PostgreSQL's postmaster."""
        var = Path(os.environ.get("CET_VAR", REPO / ".local"))
        for pidfile in sorted((var / "run").glob("*.pid")):
            name = pidfile.stem
            if name in ("prometheus", "mailsink", "mail-sink", "payment-sandbox"):
                continue  # not part of the system under test (a stand-in, the scraper, the mail sink)
            try:
                self.add(name, int(pidfile.read_text().split()[0]))
            except (ValueError, IndexError):
                pass
        postmaster = var / "pg" / "data" / "postmaster.pid"
        if postmaster.exists():
            self.add("postgresql", int(postmaster.read_text().split()[0]))

    def sample(self) -> Sample:
        children = _children_map()
        cpu: dict[str, float] = {}
        rss: dict[str, int] = {}
        for name, root in self.roots.items():
            total, peak = 0.0, 0
            for pid in _tree(root, children):
                fields = _stat(pid)
                if not fields:
                    continue
                # fields[11..14]: utime stime cutime cstime (stat fields 14-17)
                total += int(fields[11]) + int(fields[12])
                if pid == root:
                    total += int(fields[13]) + int(fields[14])
                peak = max(peak, _hwm_kib(pid))
            cpu[name] = total / TICKS
            rss[name] = peak
        return Sample(cpu, rss)


def cpu_delta(before: Sample, after: Sample) -> dict[str, float]:
    return {name: after.cpu_seconds.get(name, 0.0) - before.cpu_seconds.get(name, 0.0) for name in after.cpu_seconds}


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine (all processes, ours or not) from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICKS
