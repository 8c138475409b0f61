"""Results: the JSON (git-ignored), a Markdown summary with every figure, ratio and target,
and a chart of latency percentiles against load."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

# Targets (reported as pass/miss, never asserted: machine speed must not fail a build).
READ_P95_MS = 25.0
WRITE_P95_MS = 40.0
PROVIDER_OVERHEAD_P95_MS = 30.0
ANALYTICS_P95_MS = 200.0
RLS_RATIO = 0.9
GROWTH_RATIO = 1.5
SATURATED_CPU_SHARE = 0.9  # of every core: beyond it, a growth ratio compares queues
PROMISE_P95_MS = 500.0  # today's promise, at 100 users
AIM_P95_MS = 50.0  # the aim, at 1,000 users
STACK_GROUPS = ("postgres", "postgrest", "sidecar", "nginx", "fakes", "worker")
CPU_GROUPS = ("postgres", "postgrest", "sidecar", "nginx", "fakes", "worker", "loadgen", "other")


def rate(rps: float) -> str:
    return f"{rps:.0f}" if rps >= 10 else f"{rps:.1f}"


def one_line(stats: dict[str, Any]) -> str:
    return (
        f"{stats['rps']:.0f} req/s, p50 {stats['p50']:.1f} ms, p95 {stats['p95']:.1f} ms, "
        f"p99 {stats['p99']:.1f} ms, {stats['errors']} errors"
    )


def cpu_per_request(result: dict[str, Any]) -> dict[str, float]:
    """Milliseconds of CPU each component spent per request answered."""
    rps = result["all"]["rps"] or 1.0
    return {g: result["cpu"].get(g, 0.0) * 10 / rps for g in (*STACK_GROUPS, "loadgen", "other")}


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def find_baseline(folder: Path, size: str, explicit: Path | None) -> dict[str, Any] | None:
    """The size-S results the growth ratios compare against (not for an S run itself)."""
    if explicit:
        loaded: dict[str, Any] = json.loads(explicit.read_text())
        return loaded
    if size == "S":
        return None
    found = sorted(folder.glob("*-S.json"))
    return json.loads(found[-1].read_text()) if found else None


# --- derived figures ----------------------------------------------------------------------------


def compute_ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    r = results["ratios"]
    rows: list[dict[str, Any]] = []
    gw = r["rls_gateway"]["phases"]
    rows.append(
        {
            "name": "RLS cost, PostgREST read through the gateway (throughput)",
            "a": f"agents (RLS) {gw['rls']['rps']:.0f} req/s",
            "b": f"RLS-free copy ?user_id=eq {gw['norls']['rps']:.0f} req/s",
            "value": ratio(gw["rls"]["rps"], gw["norls"]["rps"]),
            "target": f">= {RLS_RATIO}",
            "pass": _at_least(ratio(gw["rls"]["rps"], gw["norls"]["rps"]), RLS_RATIO),
            "meaning": "share of the RLS-free throughput a tenant's list read keeps under RLS",
        }
    )
    rows.append(
        {
            "name": "... same, RLS table with an explicit ?user_id=eq filter",
            "a": f"agents?user_id=eq {gw['rls_filtered']['rps']:.0f} req/s",
            "b": f"RLS-free copy {gw['norls']['rps']:.0f} req/s",
            "value": ratio(gw["rls_filtered"]["rps"], gw["norls"]["rps"]),
            "target": "",
            "pass": None,
            "meaning": "what a client filter gives back (the index can be used)",
        }
    )
    sql = r["rls_sql"]
    for table in ("agents", "notifications"):
        value = ratio(sql[f"{table}_rls"]["rps"], sql[f"{table}_norls"]["rps"])
        rows.append(
            {
                "name": f"RLS cost, same SQL in pgbench: {table}",
                "a": f"RLS {sql[f'{table}_rls']['rps']:.0f} tx/s",
                "b": f"RLS-free copy {sql[f'{table}_norls']['rps']:.0f} tx/s",
                "value": value,
                "target": f">= {RLS_RATIO}",
                "pass": _at_least(value, RLS_RATIO),
                "meaning": "the database's own cost of the policy, without HTTP",
            }
        )
    value = ratio(sql["agents_rls_filtered"]["rps"], sql["agents_norls"]["rps"])
    rows.append(
        {
            "name": "... agents with RLS and an explicit user_id filter (pgbench)",
            "a": f"{sql['agents_rls_filtered']['rps']:.0f} tx/s",
            "b": f"{sql['agents_norls']['rps']:.0f} tx/s",
            "value": value,
            "target": "",
            "pass": None,
            "meaning": "policy cost once the query itself can use the index",
        }
    )
    http, rest, raw = (
        r["overhead_http"]["phases"]["gateway"],
        r["overhead_http"]["phases"]["postgrest"],
        r["overhead_sql"]["agents_rls"],
    )
    rows.append(
        {
            "name": "Gateway + PostgREST vs the same SQL in pgbench (p95 at a fixed rate)",
            "a": f"gateway p50 {http['p50']:.1f} / p95 {http['p95']:.1f} ms "
            f"(PostgREST direct {rest['p50']:.1f} / {rest['p95']:.1f})",
            "b": f"pgbench p50 {raw['p50']:.1f} / p95 {raw['p95']:.1f} ms",
            "value": ratio(http["p95"], raw["p95"]),
            "target": "",
            "pass": None,
            "meaning": f"HTTP adds {http['p50'] - raw['p50']:.1f} ms at p50, "
            f"{http['p95'] - raw['p95']:.1f} ms at p95; of that, nginx + the rate-limit "
            f"check {http['p50'] - rest['p50']:.1f} ms at p50",
        }
    )
    value = ratio(gw["rls"]["rps"], sql["agents_rls"]["rps"])
    rows.append(
        {
            "name": "Gateway + PostgREST vs pgbench (maximum throughput)",
            "a": f"gateway {gw['rls']['rps']:.0f} req/s",
            "b": f"pgbench {sql['agents_rls']['rps']:.0f} tx/s",
            "value": value,
            "target": "",
            "pass": None,
            "meaning": "share of the database's read throughput the HTTP path delivers",
        }
    )
    side, direct = r["provider"]["phases"]["sidecar"], r["provider"]["phases"]["direct"]
    own = r["provider"].get("overhead") or {}
    overhead = own.get("p95")
    rows.append(
        {
            "name": "Sidecar provider path vs calling the fake provider directly",
            "a": f"agent-chat p50 {side['p50']:.1f} / p95 {side['p95']:.1f} ms",
            "b": f"direct p50 {direct['p50']:.1f} / p95 {direct['p95']:.1f} ms",
            "value": ratio(side["p50"], direct["p50"]),
            "target": f"overhead p95 <= {PROVIDER_OVERHEAD_P95_MS:.0f} ms",
            "pass": None if overhead is None else overhead <= PROVIDER_OVERHEAD_P95_MS,
            "meaning": f"our overhead per chat turn: {own.get('p50', 0):.1f} ms at p50, "
            f"{overhead or 0:.1f} ms at p95 (end-to-end minus the provider call the sidecar "
            "timed for the same request id: auth, rate limit, key decrypt, quota hold, settle, "
            "ledger, history); A / B is the p50 ratio",
        }
    )
    t = r["trigger"]
    value = ratio(t["with_trigger"]["rps"], t["without_trigger"]["rps"])
    rows.append(
        {
            "name": "Agent insert with vs without the limit trigger (pgbench)",
            "a": f"with {t['with_trigger']['rps']:.0f} tx/s, mean "
            f"{t['with_trigger']['mean']:.2f} ms",
            "b": f"without {t['without_trigger']['rps']:.0f} tx/s, mean "
            f"{t['without_trigger']['mean']:.2f} ms",
            "value": value,
            "target": "",
            "pass": None,
            "meaning": "what holding the agent limit under a row lock costs an insert",
        }
    )
    return rows


def cores_of(results: dict[str, Any]) -> int:
    return int(results["meta"]["machine"]["cores"] or 2)


def saturated(run: dict[str, Any], results: dict[str, Any]) -> bool:
    """The machine of `results` ran out of CPU during `run`: p95 then measures the queue, not
    what the data costs."""
    return run["cpu"].get("machine", 0.0) >= SATURATED_CPU_SHARE * 100 * cores_of(results)


def compute_growth(
    results: dict[str, Any], baseline: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """p95 now against p95 at size S, per scenario and at 100 and 1,000 mixed-traffic users;
    a pair where either side saturated the machine is shown but not judged."""
    if baseline is None:
        return []
    before_steps = {s["users"]: s for s in baseline["mixed"]["steps"]}
    pairs = [
        (name, now, baseline["scenarios"].get(name)) for name, now in results["scenarios"].items()
    ]
    pairs += [
        (f"mixed @ {step['users']} users", step, before_steps.get(step["users"]))
        for step in results["mixed"]["steps"]
        if step["users"] in (100, 1000)
    ]
    rows = []
    for name, now, before in pairs:
        if not before:
            continue
        value = ratio(now["all"]["p95"], before["all"]["p95"])
        judged = not (saturated(now, results) or saturated(before, baseline))
        rows.append(
            {
                "scenario": name,
                "baseline_p95": before["all"]["p95"],
                "p95": now["all"]["p95"],
                "value": value,
                "saturated": not judged,
                "pass": (value is not None and value <= GROWTH_RATIO) if judged else None,
            }
        )
    return rows


def _at_least(value: float | None, floor: float) -> bool | None:
    return None if value is None else value >= floor


def mixed_at(results: dict[str, Any], users: int) -> dict[str, Any] | None:
    return next((s for s in results["mixed"]["steps"] if s["users"] == users), None)


def growth_target(growth: list[dict[str, Any]], size: str) -> dict[str, Any]:
    """The growth line of the targets: judged on the pairs that were not saturated."""
    if not growth:
        return {
            "target": f"growth p95 (L / S) <= {GROWTH_RATIO}",
            "measured": "n/a: compare an M or L run with this S run",
            "pass": None,
        }
    target = (
        f"growth p95 ({size} / S) <= {GROWTH_RATIO} for every scenario "
        "that left the machine CPU to spare"
    )
    judged = [g for g in growth if g["pass"] is not None]
    if not judged:
        return {"target": target, "measured": "n/a: every scenario saturated", "pass": None}
    worst = max(judged, key=lambda g: g["value"] or 0)
    return {
        "target": target,
        "measured": f"worst {worst['value']} ({worst['scenario']}); "
        f"{len(growth) - len(judged)} saturated, not judged",
        "pass": all(g["pass"] for g in judged),
    }


def compute_targets(
    results: dict[str, Any], ratios: list[dict[str, Any]], growth: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    s = results["scenarios"]
    size = results["meta"]["size"]
    where = "" if size == "L" else f" (measured at size {size}; the target is for L)"
    rows = [
        {
            "target": f"tenant reads p95 <= {READ_P95_MS:.0f} ms at 1,000 active users{where}",
            "measured": f"{s['reads']['all']['p95']:.1f} ms",
            "pass": s["reads"]["all"]["p95"] <= READ_P95_MS,
        },
        {
            "target": f"tenant writes p95 <= {WRITE_P95_MS:.0f} ms at 1,000 active users{where}",
            "measured": f"{s['writes']['all']['p95']:.1f} ms",
            "pass": s["writes"]["all"]["p95"] <= WRITE_P95_MS,
        },
        {
            "target": f"analytics p95 <= {ANALYTICS_P95_MS:.0f} ms{where}",
            "measured": f"{s['analytics']['all']['p95']:.1f} ms",
            "pass": s["analytics"]["all"]["p95"] <= ANALYTICS_P95_MS,
        },
    ]
    provider = next(r for r in ratios if r["name"].startswith("Sidecar provider path"))
    rows.append(
        {
            "target": f"sidecar provider-path overhead p95 <= {PROVIDER_OVERHEAD_P95_MS:.0f} ms",
            "measured": provider["meaning"].split(": ", 1)[1].split(" (")[0],
            "pass": provider["pass"],
        }
    )
    errors = total_errors(results)
    rows.append(
        {
            "target": "zero errors (no deliberate 402/429 in this design)",
            "measured": f"{errors} errors",
            "pass": errors == 0,
        }
    )
    for r in ratios:
        if r["target"].startswith(">="):
            rows.append(
                {
                    "target": f"{r['name']} {r['target']}",
                    "measured": str(r["value"]),
                    "pass": r["pass"],
                }
            )
    rows.append(growth_target(growth, size))
    for users, limit, label in (
        (100, PROMISE_P95_MS, "today's promise"),
        (1000, AIM_P95_MS, "the aim"),
    ):
        step = mixed_at(results, users)
        if step:
            rows.append(
                {
                    "target": f"mixed traffic p95 < {limit:.0f} ms at {users:,} active "
                    f"users ({label})",
                    "measured": f"{step['all']['p95']:.1f} ms",
                    "pass": step["all"]["p95"] < limit,
                }
            )
    return rows


def total_errors(results: dict[str, Any]) -> int:
    count = sum(x["all"]["errors"] for x in results["scenarios"].values())
    count += sum(s["all"]["errors"] for s in results["mixed"]["steps"])
    for value in results["ratios"].values():
        for side in (value.get("phases") or value).values():
            count += side.get("errors", 0)
    return count


def table_text(text: str, limit: int = 200) -> str:
    """One line, short, and safe inside a Markdown table cell."""
    return " ".join(text.split())[:limit].replace("|", "\\|")


def error_samples(results: dict[str, Any], limit: int = 10) -> list[dict[str, Any]]:
    """The first unexpected answers of each run, with where they happened."""
    runs = [(f"scenario {name}", run) for name, run in results["scenarios"].items()]
    runs += [(f"mixed @ {step['users']}", step) for step in results["mixed"]["steps"]]
    runs += [(f"ratio {name}", run) for name, run in results["ratios"].items()]
    found = [
        {"where": where, **sample}
        for where, run in runs
        if isinstance(run, dict)
        for sample in run.get("error_samples", [])
    ]
    return found[:limit]


# --- output -------------------------------------------------------------------------------------


def mark(value: bool | None) -> str:
    return "n/a" if value is None else ("**pass**" if value else "**miss**")


def cpu_cell(cpu: dict[str, float]) -> str:
    parts = [f"{g} {cpu[g]:.0f}" for g in CPU_GROUPS if cpu.get(g, 0) >= 1]
    return ", ".join(parts) + f" (machine {cpu.get('machine', 0):.0f} of 200)"


def markdown(results: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    meta = results["meta"]
    size, data, m, v = meta["size"], meta["data"], meta["machine"], meta["versions"]
    ratios, growth = compute_ratios(results), compute_growth(results, baseline)
    targets = compute_targets(results, ratios, growth)
    setup = meta["setup"]["seed"]
    lines = [
        f"# VoxFlow bench, size {size}: {data['users']:,} users, {data['events']:,} usage events",
        "",
        f"Run {meta['date']} in {meta['seconds']} s (stack start and seeding included; seeding "
        f"took {setup['seconds']['total']} s). Reproduce with `make bench SIZE={size}`.",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB RAM, Linux "
        f"{m['kernel']}; the load generator runs on the same machine (its CPU is in the tables).",
        f"- {v['postgres']}; {v['postgrest']}; {v['nginx']}; Python {v['python']}, gunicorn "
        f"{v['gunicorn']} ({meta['sidecar_workers']} workers x 8 threads); locust {v['locust']}; "
        f"{v['pgbench']}; commit {v['commit']}.",
        f"- Postgres settings: `{meta['pg_settings']}`; per-user rate-limit counts in "
        f"{meta.get('rate_limit_store', 'postgres')}; fake providers at zero latency.",
        noise_line(results),
        f"- Data: {setup['users']:,} accounts, {setup['agents']:,} agents, "
        f"{setup['provider_keys']:,} sealed provider keys, {setup['notifications']:,} "
        f"notifications, {setup['calls']:,} calls, {setup['conversations']:,} conversations, "
        f"{setup['messages']:,} messages, {setup['events']:,} usage events over 60 days.",
        "",
        "## Targets",
        "",
        "| target | measured | result |",
        "| --- | --- | --- |",
        *[f"| {t['target']} | {t['measured']} | {mark(t['pass'])} |" for t in targets],
        "",
        "## Scenarios (open loop: a Poisson stream of about 1 request a second per active user)",
        "",
        "| scenario | request | active users | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in results["scenarios"].items():
        a = result["all"]
        lines.append(
            f"| **{name}** | all | {result['users']} | {a['rps']:.0f} | {a['p50']:.1f} "
            f"| {a['p95']:.1f} | {a['p99']:.1f} | {a['errors']} |"
        )
        for request, stats in result["requests"].items():
            lines.append(
                f"| | {request} | | {rate(stats['rps'])} | {stats['p50']:.1f} | "
                f"{stats['p95']:.1f} | {stats['p99']:.1f} | {stats['errors']} |"
            )
    cores = cores_of(results)
    lines += [
        "",
        "CPU time per request, by component (ms), and the request rate this machine could "
        "serve if the stack had every core to itself (cores x 1000 ms / stack CPU per request):",
        "",
        "| scenario | " + " | ".join(STACK_GROUPS) + " | stack total | loadgen | other "
        "| ceiling req/s |",
        "| --- | " + " | ".join("---:" for _ in STACK_GROUPS) + " | ---: | ---: | ---: | ---: |",
    ]
    for name, result in results["scenarios"].items():
        per = cpu_per_request(result)
        stack = sum(per[g] for g in STACK_GROUPS)
        lines.append(
            f"| {name} | "
            + " | ".join(f"{per[g]:.2f}" for g in STACK_GROUPS)
            + f" | {stack:.2f} | {per['loadgen']:.2f} | {per['other']:.2f} | "
            f"{cores * 1000 / stack if stack else 0:.0f} |"
        )
    for name, result in results["scenarios"].items():
        own = result.get("overhead")
        if own:
            lines += [
                "",
                f"Our overhead per chat turn in the {name} scenario ({own['count']} turns matched "
                f"by request id): p50 {own['p50']:.1f} ms, p95 {own['p95']:.1f} ms, p99 "
                f"{own['p99']:.1f} ms; the (fake) provider call itself: p50 "
                f"{own['provider_p50']:.1f} ms, p95 {own['provider_p95']:.1f} ms.",
            ]
    lines += ["", "CPU during each scenario (% of one core):", ""]
    lines += [
        f"- {name}: {cpu_cell(result['cpu'])}" for name, result in results["scenarios"].items()
    ]
    mixed = results["mixed"]
    lines += [
        "",
        "## Mixed traffic",
        "",
        "Per active user about one request a second: 65 % reads (agents 20, usage summary 25, "
        "notifications 20), 5 % marking a notification read, 5 % agent edits (create, update, "
        "delete in turn), 25 % agent-chat turns through the sidecar; plus one admin per 100 "
        "users on the analytics pages (one request every 5 s).",
        "",
        f"**Capacity: {mixed['capacity_users']:,} active users** with p95 under "
        f"{PROMISE_P95_MS:.0f} ms (and under 1 % errors) on this machine.",
        "",
        f"![latency against load]({chart_name(results)})",
        "",
        "| active users | offered req/s | achieved req/s | p50 ms | p95 ms | p99 ms | errors "
        "| CPU (% of one core) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for step in mixed["steps"]:
        a = step["all"]
        offered = step["users"] + max(1, step["users"] // 100) * 0.2
        lines.append(
            f"| {step['users']:,} | {offered:.0f} | {a['rps']:.0f} | {a['p50']:.1f} | "
            f"{a['p95']:.1f} | {a['p99']:.1f} | {a['errors']} | "
            f"{cpu_cell(step['cpu'])} |"
        )
    at_1000 = mixed_at(results, 1000)
    if at_1000:
        lines += [
            "",
            "By request at 1,000 active users:",
            "",
            "| request | req/s | p50 ms | p95 ms | p99 ms | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {name} | {rate(s['rps'])} | {s['p50']:.1f} | {s['p95']:.1f} | "
            f"{s['p99']:.1f} | {s['errors']} |"
            for name, s in at_1000["requests"].items()
        ]
    lines += [
        "",
        "## Ratios (measured side by side, alternating A and B)",
        "",
        "| ratio | A | B | A / B | target | result | what it means |",
        "| --- | --- | --- | ---: | --- | --- | --- |",
        *[
            f"| {r['name']} | {r['a']} | {r['b']} | {r['value']} | {r['target']} | "
            f"{mark(r['pass'])} | {r['meaning']} |"
            for r in ratios
        ],
        "",
    ]
    samples = error_samples(results)
    if samples:
        lines += [
            "## Errors (the first few, as the client saw them)",
            "",
            "| where | request | status | request id | body |",
            "| --- | --- | ---: | --- | --- |",
            *[
                f"| {e['where']} | {e['request']} | {e['status']} | {e['request_id'] or ''} | "
                f"`{table_text(e['body'])}` |"
                for e in samples
            ],
            "",
        ]
    if growth and baseline:
        lines += [
            f"## Growth: p95 at size {size} against size S ({baseline['meta']['date']})",
            "",
            f"A pair where either run kept the machine's CPU at {SATURATED_CPU_SHARE:.0%} or more "
            "is shown but not judged: its p95 measures the queue of requests waiting for a core, "
            "not what the data costs.",
            "",
            "| scenario | p95 at S | p95 now | ratio | result |",
            "| --- | ---: | ---: | ---: | --- |",
            *[
                f"| {g['scenario']} | {g['baseline_p95']:.1f} | {g['p95']:.1f} | {g['value']} | "
                f"{'n/a: saturated' if g['saturated'] else mark(g['pass'])} |"
                for g in growth
            ],
            "",
        ]
    if at_1000 and at_1000.get("top_statements"):
        lines += [
            "## Where the database time went (mixed traffic, 1,000 users)",
            "",
            "| calls | total ms | mean ms | statement |",
            "| ---: | ---: | ---: | --- |",
        ]
        lines += [
            f"| {s['calls']} | {s['total_ms']:.0f} | {s['mean_ms']:.3f} | `{s['query'][:150]}` |"
            for s in at_1000["top_statements"][:10]
        ]
        lines.append("")
    lines += ["## Query plans (as the tenant with the most agents, and as an admin)", ""]
    for name, plan in results.get("explain", {}).items():
        lines += [
            f"<details><summary>{name}: {plan_gist(plan)}</summary>",
            "",
            "```",
            plan,
            "```",
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)


def noise_line(results: dict[str, Any]) -> str:
    """Other processes on the machine slow every figure: say so when it happened."""
    idle = results["meta"].get("idle_cpu_before", {}).get("machine", 0.0)
    busy = [
        f"{name} ({r['cpu'].get('other', 0):.0f} %)"
        for name, r in [
            *results["scenarios"].items(),
            *((f"mixed {s['users']}", s) for s in results["mixed"]["steps"]),
        ]
        if r["cpu"].get("other", 0) > 20
    ]
    if idle <= 20 and not busy:
        return f"- Noise: the machine was idle before the run ({idle:.0f} % of a core busy)."
    return (
        f"- **Noise: other processes used the machine** ({idle:.0f} % of a core before the "
        f"run; during {', '.join(busy) or 'no scenario'}): absolute figures are pessimistic; "
        "the ratios, measured side by side, are less affected."
    )


def plan_gist(plan: str) -> str:
    scans = [
        line.strip().removeprefix("->").strip().split(" (")[0]
        for line in plan.splitlines()
        if " Scan " in f" {line.strip().removeprefix('->').strip()}"
    ]
    triggers = [line.strip() for line in plan.splitlines() if line.startswith("Trigger")]
    if triggers:
        slowest = max(triggers, key=lambda t: float(t.split("time=")[1].split()[0]))
        scans.append(f"slowest: {slowest}")
    total = next((line.strip() for line in plan.splitlines() if "Execution Time" in line), "")
    return "; ".join(dict.fromkeys(scans)) + (f" ({total})" if total else "")


def chart_name(results: dict[str, Any]) -> str:
    return f"{results['meta']['date'][:10]}-{results['meta']['size']}.png"


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = results["mixed"]["steps"]
    users = [s["users"] for s in steps]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, style in (("p50", "o-"), ("p95", "s-"), ("p99", "^-")):
        left.plot(users, [s["all"][key] for s in steps], style, label=key)
    left.axhline(PROMISE_P95_MS, color="red", linestyle="--", linewidth=1, label="500 ms")
    left.axhline(AIM_P95_MS, color="green", linestyle=":", linewidth=1, label="50 ms")
    left.set_yscale("log")
    left.set_xlabel("active users (about 1 request/s each)")
    left.set_ylabel("latency (ms, log scale)")
    left.set_title("Mixed traffic: latency against load")
    left.legend()
    left.grid(True, which="both", alpha=0.3)
    right.plot(users, [u + max(1, u // 100) * 0.2 for u in users], "k--", label="offered")
    right.plot(users, [s["all"]["rps"] for s in steps], "o-", label="achieved")
    right.set_xlabel("active users")
    right.set_ylabel("requests per second")
    right.set_title("Throughput")
    right.legend()
    right.grid(True, alpha=0.3)
    meta = results["meta"]
    fig.suptitle(
        f"VoxFlow size {meta['size']} ({meta['data']['users']:,} users, "
        f"{meta['data']['events']:,} events), {meta['machine']['cores']} cores, "
        f"{meta['date'][:10]}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict[str, Any], folder: Path, baseline: dict[str, Any] | None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{results['meta']['date'][:10]}-{results['meta']['size']}"
    results["derived"] = {
        "ratios": compute_ratios(results),
        "growth": compute_growth(results, baseline),
    }
    results["derived"]["targets"] = compute_targets(
        results, results["derived"]["ratios"], results["derived"]["growth"]
    )
    paths = [folder / f"{stem}.json", folder / f"{stem}.md", folder / f"{stem}.png"]
    paths[0].write_text(json.dumps(results, indent=2))
    paths[1].write_text(markdown(results, baseline))
    chart(results, paths[2])
    return paths


def summary_text(results: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    targets = results["derived"]["targets"]
    width = max(len(t["target"]) for t in targets)
    return "\n".join(
        f"{t['target']:<{width}}  {t['measured']:>24}  {mark(t['pass'])}" for t in targets
    )


def main(argv: list[str] | None = None) -> None:
    """Write a run's summary and chart again from its JSON (after a change to this file)."""
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=main.__doc__)
    parser.add_argument("results", type=Path, help="a bench/results/<date>-<size>.json")
    parser.add_argument("--baseline", type=Path, help="the S JSON for growth (default: newest)")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text())
        size = results["meta"]["size"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        parser.error(f"{args.results} is not a bench results JSON ({err}); pass one that is")
    folder = args.results.parent
    baseline = find_baseline(folder, size, args.baseline)
    for path in write(results, folder, baseline):
        print(path)


if __name__ == "__main__":
    main()
