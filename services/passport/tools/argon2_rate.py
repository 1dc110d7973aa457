"""Raw argon2id verifications per second on this machine, per core, for passport's configured
parameters and the alternatives weighed against them (issue 11, log-in at the peak).

    uv run python services/passport/tools/argon2_rate.py [--seconds 5]

One case at a time; "per core" is 1 / the CPU seconds (all threads) one verification takes, so other
load on a shared machine slows the wall clock but not the figure. Figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import time

from argon2 import PasswordHasher

CASES = [  # (memory KiB, time cost, parallelism, why it is here)
    (19_456, 2, 1, "OWASP minimum; passport's default"),
    (47_104, 1, 1, "OWASP's m=46 MiB t=1 alternative (below the t=2 floor asked for)"),
    (19_456, 3, 1, "one more pass"),
    (65_536, 3, 4, "argon2-cffi's default, what passport used before"),
]


def rate(memory_kib: int, time_cost: int, parallelism: int, seconds: float) -> tuple[float, float]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    stored = hasher.hash("Cet2017-pass")
    count, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < seconds:
        hasher.verify(stored, "Cet2017-pass")
        count += 1
    cpu = time.process_time() - cpu0
    return count / cpu, 1000 * cpu / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for memory_kib, time_cost, parallelism, why in CASES:
        per_core, cpu_ms = rate(memory_kib, time_cost, parallelism, args.seconds)
        print(f"m={memory_kib // 1024} MiB t={time_cost} p={parallelism}: {per_core:6.1f} verifications/s per core, {cpu_ms:6.1f} ms CPU each  ({why})")


if __name__ == "__main__":
    main()
