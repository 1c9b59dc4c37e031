"""The side-by-side table the IRC benchmark prints."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from typing import Any

from _irc_common import (
    LOADS,
    REFERENCE,
    percentile,
)
from _irc_measures import CrowdResult

# ----------------------------------------------------------------------------- report

def flows(res: dict[str, Any], key: str) -> list[Any]:
    return [r[key] for r in res.get("rounds", [])]


def median_rate(res: dict[str, Any], key: str) -> float:
    return statistics.median(f.rate for f in flows(res, key))


def fmt_rate(res: dict[str, Any], key: str) -> str:
    """Median rate over the rounds, the range, and any loss or reordering."""
    runs = flows(res, key)
    if not runs:
        return "-"
    rates = sorted(f.rate for f in runs)
    text = f"{statistics.median(rates):,.0f}/s"
    if len(rates) > 1:
        text += f" ({rates[0]:,.0f}-{rates[-1]:,.0f})"
    lost = sum(f.sent - f.received for f in runs)
    inv = sum(f.inversions for f in runs)
    dup = sum(f.duplicates for f in runs)
    flags = [f"{lost} lost"] if lost else []
    flags += [f"{inv} out of order"] if inv else []
    flags += [f"{dup} dup"] if dup else []
    return text + (f" {', '.join(flags)}" if flags else " all, in order")


def complete_ordered(res: dict[str, Any], key: str) -> bool:
    return all(f.complete and f.ordered for f in flows(res, key))


def pooled(res: dict[str, Any], key: str) -> list[float]:
    return [x for lat in flows(res, key) for x in lat.samples]


def fmt_p99(res: dict[str, Any], key: str) -> str:
    values = pooled(res, key)
    if not values:
        return "-"
    text = f"{percentile(values, 99) * 1000:.2f} ms"
    per_round = sorted(percentile(lat.samples, 99) * 1000 for lat in flows(res, key)
                       if lat.samples)
    if len(per_round) > 1:
        text += f" (rounds {per_round[0]:.1f}-{per_round[-1]:.1f})"
    return text


def fmt_ms(values: list[float], pct: float) -> str:
    return f"{percentile(values, pct) * 1000:.2f} ms" if values else "-"


def crowd_of(res: dict[str, Any] | None, mode: str, n: int) -> CrowdResult | None:
    if res is None:
        return None
    for c in res.get("crowd", []):
        if c.mode == mode and c.users == n:
            return c
    return None


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]], machine: str,
           elapsed: float) -> str:
    bib, ours = results.get("biboumi"), results.get("ours")
    rows: list[tuple[str, str, str, str, str]] = []

    def add(metric: str, get: Callable[[dict[str, Any]], str], ref: str = "",
            verdict: str = "") -> None:
        rows.append((metric, get(bib) if bib else "-", get(ours) if ours else "-", ref, verdict))

    def judge(ok: bool | None) -> str:
        return "-" if ok is None else ("PASS" if ok else "MISS")

    def both(fn: Callable[[dict[str, Any], dict[str, Any]], bool]) -> bool | None:
        if bib is None or ours is None:
            return None
        try:
            return fn(bib, ours)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return None

    for key, name in (("i2x", "IRC->XMPP channel msgs"), ("x2i", "XMPP->IRC channel msgs")):
        add(name, lambda r, key=key: fmt_rate(r, key), REFERENCE[f"{key}_rate"],
            ">= 3x biboumi, all, in order: " + judge(both(
                lambda b, o, key=key: median_rate(o, key) >= 3 * median_rate(b, key)
                and complete_ordered(o, key))))
        add("  gateway CPU per message", lambda r, key=key: "{:.2f} ms".format(
            statistics.median(x[f"{key}_cpu"] / x[key].sent for x in r["rounds"]) * 1000))
    for key, name in (("l2x", "IRC->XMPP"), ("l2i", "XMPP->IRC")):
        ref = REFERENCE["p99"] if key == "l2x" else ""
        add(f"latency {name} p50 @{args.rate:.0f}/s",
            lambda r, key=key: fmt_ms(pooled(r, key), 50), "")
        add(f"latency {name} p99 @{args.rate:.0f}/s", lambda r, key=key: fmt_p99(r, key), ref,
            "<= biboumi: " + judge(both(lambda b, o, key=key: percentile(pooled(o, key), 99)
                                        <= percentile(pooled(b, key), 99))))
        add("  received", lambda r, key=key: (
            f"{len(pooled(r, key))}/{sum(lat.sent for lat in flows(r, key))}"))
    add("RSS idle (component up)", lambda r: f"{r['rss_idle'] / 1024:.1f} MiB")
    cases = [("one", args.users_small, "mem_one_100"), ("one", args.users_large, "mem_one_500"),
             ("alone", args.users_alone, "mem_alone_100")]
    for mode, n, ref_key in cases:
        if n <= 0:
            continue
        label = f"{n} users in one channel" if mode == "one" else f"{n} users, one channel each"
        ref = REFERENCE[ref_key] if n in (100, 500) else ""
        verdict = ""
        if mode == "one" and n == args.users_large:
            verdict = "< biboumi: " + judge(both(
                lambda b, o, n=n: crowd_of(o, "one", n).per_user_kib  # type: ignore[union-attr]
                < crowd_of(b, "one", n).per_user_kib))  # type: ignore[union-attr]
        elif mode == "alone":
            verdict = "<= 3x biboumi: " + judge(both(
                lambda b, o, n=n: crowd_of(o, "alone", n).per_user_kib  # type: ignore[union-attr]
                <= 3 * max(crowd_of(b, "alone", n).per_user_kib, 0.0)))  # type: ignore[union-attr]

        def mem(r: dict[str, Any], mode: str = mode, n: int = n) -> str:
            c = crowd_of(r, mode, n)
            return "-" if c is None else (
                f"{c.per_user_kib:.1f} KiB/user ({c.rss_before / 1024:.1f}->"
                f"{c.rss_after / 1024:.1f} MiB, peak {c.rss_peak / 1024:.1f})")

        def joins(r: dict[str, Any], mode: str = mode, n: int = n) -> str:
            c = crowd_of(r, mode, n)
            if c is None:
                return "-"
            extra = f", {c.errors}" if c.errors else ""
            return (f"{c.joined}/{n} in {c.join_seconds:.1f}+{c.settle_seconds:.1f} s, "
                    f"{c.cpu_seconds:.1f} CPU-s{extra}")

        add(f"memory, {label}", mem, ref, verdict)
        add("  joins (+ presences settled)", joins)
        if mode == "one":
            def fan(r: dict[str, Any], mode: str = mode, n: int = n) -> str:
                c = crowd_of(r, mode, n)
                if c is None or not c.fanout:
                    return "-"
                miss = f", {c.fanout_missing} missing" if c.fanout_missing else ""
                return (f"{statistics.median(c.fanout) * 1000:.0f} ms "
                        f"(p50 user {statistics.median(c.fanout_p50) * 1000:.0f} ms{miss})")
            add(f"  fan-out of 1 line to all {n}", fan)

    header = ("metric", "biboumi 9.0", "xmpp-transport", "issue ref.", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = [
        f"machine: {machine}",
        f"run: {'quick' if args.quick else 'full'}, {elapsed:.0f} s; {args.rounds} alternating "
        f"round(s) of: flows of {args.count} msgs (window {args.window}), latency "
        f"{args.rate:.0f} msg/s x {args.seconds:.0f} s each way (rates: median (min-max); "
        f"latency: all rounds pooled); "
        f"crowd in {args.workers} worker processes; 1-min load average during the run "
        f"{min(LOADS, default=0):.2f}-{max(LOADS, default=0):.2f}",
    ]
    for res in (bib, ours):
        if res is not None:
            lines.append(f"{res['target'].label}: {res['target'].describe()}")
    lines.append("")
    lines.append(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines.append("-+-".join("-" * w for w in widths))
    for row in rows:
        lines.append(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)
