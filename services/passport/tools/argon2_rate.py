"""Raw argon2id verifications per second on this machine, per core, for OWASP's equal-strength
argon2id settings (Password Storage Cheat Sheet: m=19 MiB t=2, 12 MiB t=3, 9 MiB t=4, 7 MiB t=5,
p=1) and the library's old default (issue 11, log-in at the peak).

    uv run python services/passport/tools/argon2_rate.py [--seconds 5] [--threads 1,2]

One case at a time, with 1 and then N threads verifying at once (passport hashes in one thread per
core: two hashes share the last-level cache, which a small `m` still fits). "per core" is 1 / the
CPU seconds (all threads) one verification takes, so other load on a shared machine slows the wall
clock more than the figure. Figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from argon2 import PasswordHasher

CASES = [  # (memory KiB, time cost, parallelism, why it is here)
    (19_456, 2, 1, "OWASP, m=19 MiB t=2"),
    (12_288, 3, 1, "OWASP, m=12 MiB t=3"),
    (9_216, 4, 1, "OWASP, m=9 MiB t=4"),
    (7_168, 5, 1, "OWASP, m=7 MiB t=5"),
    (65_536, 3, 4, "argon2-cffi's default, what passport used before"),
]


def rate(memory_kib: int, time_cost: int, parallelism: int, seconds: float, *, threads: int = 1) -> tuple[float, float]:
    """(verifications per CPU second, ms of CPU per verification) with `threads` verifying at once."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    stored = hasher.hash("Cet2017-pass")
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def verify(index: int) -> None:
        while time.perf_counter() < deadline:
            hasher.verify(stored, "Cet2017-pass")
            counts[index] += 1

    cpu0 = time.process_time()
    workers = [threading.Thread(target=verify, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cpu, count = time.process_time() - cpu0, sum(counts)
    return count / cpu, 1000 * cpu / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=lambda s: [int(t) for t in s.split(",")], default=[1, os.cpu_count() or 1])
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for memory_kib, time_cost, parallelism, why in CASES:
        for threads in args.threads:
            per_core, cpu_ms = rate(memory_kib, time_cost, parallelism, args.seconds, threads=threads)
            print(
                f"m={memory_kib // 1024:2} MiB t={time_cost} p={parallelism}, {threads} at once: {per_core:6.1f} verifications/s per core,"
                f" {cpu_ms:6.1f} ms CPU each  ({why}; load {os.getloadavg()[0]:.1f})"
            )


if __name__ == "__main__":
    main()
