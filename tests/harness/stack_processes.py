"""The stack's processes: each in its own process group, logging to a file, ready when its health
URL answers 200 or a line shows up in its log. `kill()` (SIGKILL by default) and `start()` again
are the drills' tools."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_ports(count: int) -> list[int]:
    """Ports free right now (held open together, so they are distinct)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Proc:
    """One process of the stack, in its own process group, logging to a file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    health_url: str | None = None  # polled until it answers 200
    ready_line: str | None = None  # or: waited for in the log
    probe: Callable[[], bool] | None = None  # or: asked until it says yes (a broker's metadata)
    poll_interval: float = 0.1
    popen: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== start #{self.starts} of {self.name} =====\n".encode())
            out.flush()
            self._offset = self.log.stat().st_size
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited while starting:\n{self.tail()}")
            if self._ready():
                return
            time.sleep(self.poll_interval)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.tail()}")

    def _ready(self) -> bool:
        if self.probe:
            return self.probe()
        if self.health_url:
            try:
                return httpx.get(self.health_url, timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False
        if self.ready_line:
            with self.log.open("rb") as f:
                f.seek(self._offset)
                return self.ready_line.encode() in f.read()
        return True

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group and wait for the process to go."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            self.kill(signal.SIGTERM)
        elif self.popen is not None:
            try:  # children left behind in the group
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def restart(self, sig: int = signal.SIGKILL, timeout: float = 60.0) -> None:
        self.kill(sig)
        self.start()
        self.wait_ready(timeout)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_all(procs: Iterable[Proc], timeout: float = 90.0) -> None:
    procs = list(procs)
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.wait_ready(timeout)
