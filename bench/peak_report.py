"""What bench/peak.py prints: one line per step, the CPU split per process, peak RSS, the
ratios against the yardsticks, and the issue's targets (PASS/MISS: figures, never a failure)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

BARE_PROCESSES = ("bare-api-1", "bare-api-2", "bare-gateway", "postgresql")


def system_processes(step) -> list[str]:
    """What serves this contender (the generator apart): the bare endpoint's own processes and
    PostgreSQL, or everything `make up` runs."""
    if step.contender == "bare":
        return [p for p in BARE_PROCESSES if p in step.cpu_s]
    return [p for p in step.cpu_s if p != "generator" and p not in BARE_PROCESSES[:3]]


def system_cpu_ms(step) -> float:
    return sum(step.cpu_s[p] for p in system_processes(step)) * 1000


def above_idle_ms(step, idle: dict[str, float]) -> float:
    """The system's CPU of a step minus what its processes spend idle over the same window."""
    return system_cpu_ms(step) - sum(idle.get(p, 0.0) for p in system_processes(step)) * step.window_s * 1000


def _line(step) -> str:
    k = step.summary["all"]
    holds = sum(kind["ok"] for name, kind in step.summary["kinds"].items() if name in ("oral", "written"))
    oral = step.kind("oral")
    codes = ", ".join(f"{c} {n}" for c, n in sorted(k["codes"].items())) or "-"
    errors = ", ".join(f"{c} {n}" for c, n in sorted(k["errors"].items())) or "0"
    audit = "" if step.oversold is None else f"  oversold {step.oversold}  lost {step.lost}"
    effect = f"  effect p99 {step.effect['p99_ms']:.0f} ms ({step.effect['seen']})" if step.effect.get("seen") else ""
    return (
        f"{step.label:<32} {k['requests']:>6} req {k['per_second']:>7.0f} req/s  holds {holds:>5} ({step.ok_per_second('oral'):>6.0f}/s)  "
        f"p50 {k['p50_ms']:>6.1f}  p99 {k['p99_ms']:>6.1f}  p99.9 {k['p999_ms']:>6.1f} ms  oral p99 {oral['p99_ms']:.1f}  "
        f"refused [{codes}]  errors {errors}{audit}{effect}  drained {step.drained_s:.1f} s"
    )


def _cpu_split(step, idle: dict[str, float]) -> str:
    requests = max(1, step.summary["all"]["requests"])
    parts = sorted(((p, s * 1000 / requests) for p, s in step.cpu_s.items()), key=lambda x: -x[1])
    shown = ", ".join(f"{p} {ms:.2f}" for p, ms in parts if ms >= 0.01)
    return (
        f"{'':<4}CPU ms/request: {shown}  | system {system_cpu_ms(step) / requests:.2f} (above idle {above_idle_ms(step, idle) / requests:.2f})"
        f"  machine (all processes, others' too) {step.machine_cpu_s * 1000 / requests:.2f}"
    )


def _find(steps, label: str):
    return next((s for s in steps if s.label == label), None)


def _check(name: str, value: float | None, target: str, ok: bool | None) -> None:
    verdict = "n/a " if ok is None else ("PASS" if ok else "MISS")
    shown = "—" if value is None else f"{value:.2f}"
    print(f"  {verdict}  {name:<62} {shown:>9}   target {target}")


def print_report(results: dict, *, args, started: datetime) -> None:
    steps, idle = results["steps"], results.get("idle", {})
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print()
    print(
        f"peak benchmark, {started:%Y-%m-%d %H:%M} – {datetime.now(UTC):%H:%M} UTC, {os.cpu_count()} CPUs, load average now {' '.join(load)}"
        f"{' (--quick: sizes too small for figures)' if args.quick else ''}"
    )
    print(f"closed loop: {args.conns} connections; open loop: {args.open_seconds:.0f} s at most per step; 200 client addresses (127.0.1.1-200)")
    shown = ", ".join(f"{p} {rate * 1000:.0f}" for p, rate in sorted(idle.items(), key=lambda x: -x[1]) if rate * 1000 >= 1)
    print(f"idle CPU (ms per second, no load): {shown}  | total {sum(idle.values()) * 1000:.0f}")
    for step in steps:
        print(_line(step))
        print(_cpu_split(step, idle))
    pg = results.get("pgbench", {})
    print(f"pgbench, same statement, one row, {args.conns} clients: {pg.get('tps', 0):.0f} tx/s, latency avg {pg.get('latency_ms', 0):.1f} ms")
    last = steps[-1] if steps else None
    if last:
        rss = ", ".join(f"{p} {kib / 1024:.0f}" for p, kib in sorted(last.peak_rss_kib.items()))
        print(f"peak RSS (MiB, largest process of each group, high-water mark): {rss}")

    print("\nratios and targets (issue 11):")
    a_bare, a_mine = _find(steps, "bare (a) closed"), _find(steps, "enrolment (a) closed")
    b_bare, b_mine = _find(steps, "bare (b) closed"), _find(steps, "enrolment (b) closed")
    if a_bare and a_mine:
        ratio = a_mine.refusals_per_second("oral") / max(1e-9, a_bare.refusals_per_second("oral"))
        print(f"  (a) full-campus refusals/s: enrolment {a_mine.refusals_per_second('oral'):.0f}, bare {a_bare.refusals_per_second('oral'):.0f}")
        _check("(a) refusals/s enrolment / bare", ratio, "≥ 1.0", ratio >= 1.0)
        _check(
            "(a) system CPU ms per refusal (enrolment)",
            system_cpu_ms(a_mine) / max(1, a_mine.summary["all"]["requests"]),
            f"(bare: {system_cpu_ms(a_bare) / max(1, a_bare.summary['all']['requests']):.2f})",
            None,
        )
    if b_bare and b_mine:
        ratio = b_mine.ok_per_second("oral") / max(1e-9, b_bare.ok_per_second("oral"))
        print(
            f"  (b) holds/s: enrolment {b_mine.ok_per_second('oral'):.0f}, bare {b_bare.ok_per_second('oral'):.0f}, pgbench {pg.get('tps', 0):.0f} tx/s"
            f" (enrolment/pgbench {b_mine.ok_per_second('oral') / max(1e-9, pg.get('tps', 0)):.2f}, bare/pgbench {b_bare.ok_per_second('oral') / max(1e-9, pg.get('tps', 0)):.2f})"
        )
        _check("(b) holds/s enrolment / bare", ratio, "≥ 1.0", ratio >= 1.0)
        per_hold = system_cpu_ms(b_mine) / max(1, b_mine.kind("oral")["ok"])
        _check("(b) CPU ms per hold, whole system (drained)", per_hold, "≤ 1.5", per_hold <= 1.5)
        _check(
            "(b) the same, above the processes' idle CPU",
            above_idle_ms(b_mine, idle) / max(1, b_mine.kind("oral")["ok"]),
            "≤ 1.5",
            above_idle_ms(b_mine, idle) / max(1, b_mine.kind("oral")["ok"]) <= 1.5,
        )
        _check("(b) bare endpoint's CPU ms per hold (yardstick)", system_cpu_ms(b_bare) / max(1, b_bare.kind("oral")["ok"]), "—", None)
        effect = b_mine.effect.get("p99_ms")
        _check("(b) outbox → consumer effect p99 (ms) at the maximum hold rate", effect, "< 1000", None if effect is None else effect < 1000)
    for name in ("a", "b"):
        half = _find(steps, f"enrolment ({name}) open 50%")
        if half:
            p99 = half.kind("oral")["p99_ms"]
            _check(f"({name}) enrolment p99 (ms) at an offered 50 % of its maximum", p99, "< 100", p99 < 100)
    login, login_half = _find(steps, "passport (c) log-in closed"), _find(steps, "passport (c) log-in open 50%")
    if login:
        per_core = login.ok_per_second("login") / (os.cpu_count() or 1)
        _check("(c) log-ins/s per core through the gateway (argon2id as deployed)", per_core, "≥ 40", per_core >= 40)
    if login_half:
        p99 = login_half.kind("login")["p99_ms"]
        _check("(c) log-in p99 (ms) at half its maximum rate", p99, "< 300", p99 < 300)
    _check("(c) a refresh that needs no password hash", None, "passport's point, not measured here", None)
    if last:
        apis = {p: kib for p, kib in last.peak_rss_kib.items() if "-api" in p and not p.startswith("bare")}
        for name, kib in sorted(apis.items()):
            _check(f"{name} peak RSS (MiB)", kib / 1024, "< 150", kib / 1024 < 150)
    audited = [s for s in steps if s.oversold is not None]
    oversold, lost = sum(s.oversold for s in audited), sum(s.lost for s in audited)
    _check(f"oversold, all {len(audited)} audited steps", oversold, "= 0", oversold == 0)
    _check(f"lost, all {len(audited)} audited steps", lost, "= 0", lost == 0)
