"""The bench's judgement of growth: a p95 taken while the machine had no CPU to spare measures
the queue, so such a pair is shown but never counted as a pass or a miss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import report


def run(p95: float, machine_cpu: float) -> dict[str, Any]:
    return {"all": {"p95": p95}, "cpu": {"machine": machine_cpu}}


def results(scenarios: dict[str, dict[str, Any]], steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "meta": {"machine": {"cores": 2}},
        "scenarios": scenarios,
        "mixed": {"steps": steps},
    }


def step(users: int, p95: float, machine_cpu: float) -> dict[str, Any]:
    return {"users": users, **run(p95, machine_cpu)}


def test_growth_judges_only_pairs_that_left_the_machine_cpu_to_spare() -> None:
    baseline = results(
        {"reads": run(800.0, 195.0), "reads_100": run(4.0, 40.0), "writes_100": run(5.0, 50.0)},
        [step(100, 14.0, 60.0), step(1000, 2800.0, 196.0)],
    )
    now = results(
        {"reads": run(1600.0, 190.0), "reads_100": run(4.4, 35.0), "writes_100": run(9.0, 55.0)},
        [step(100, 16.0, 59.0), step(1000, 3400.0, 194.0)],
    )

    rows = {g["scenario"]: g for g in report.compute_growth(now, baseline)}

    assert {name: g["pass"] for name, g in rows.items()} == {
        "reads": None,
        "reads_100": True,
        "writes_100": False,
        "mixed @ 100 users": True,
        "mixed @ 1000 users": None,
    }
    assert rows["reads"]["saturated"] and rows["reads"]["value"] == 2.0
    assert rows["writes_100"]["value"] == 1.8


def test_a_pair_saturated_on_the_baseline_side_alone_is_not_judged() -> None:
    baseline = results({"provider": run(460.0, 182.0)}, [])
    now = results({"provider": run(30.0, 100.0)}, [])

    (row,) = report.compute_growth(now, baseline)

    assert row["saturated"] and row["pass"] is None


def test_the_growth_target_counts_the_judged_pairs_and_names_the_rest() -> None:
    growth = [
        {"scenario": "reads", "value": 1.87, "saturated": True, "pass": None},
        {"scenario": "reads_100", "value": 1.16, "saturated": False, "pass": True},
    ]

    target = report.growth_target(growth, "L")

    assert target["pass"] is True
    assert target["measured"] == "worst 1.16 (reads_100); 1 saturated, not judged"


def test_a_growth_target_with_every_pair_saturated_is_not_judged() -> None:
    growth = [{"scenario": "reads", "value": 1.87, "saturated": True, "pass": None}]

    target = report.growth_target(growth, "M")

    assert target["pass"] is None
    assert target["target"].startswith("growth p95 (M / S)")
    assert target["measured"] == "n/a: every scenario saturated"


def test_rewriting_a_summary_from_a_file_that_is_not_results_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "2026-12-03-L.json"
    broken.write_text('{"meta": {}}')

    with pytest.raises(SystemExit) as exit_info:
        report.main([str(broken)])

    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"{broken} is not a bench results JSON" in error and "Traceback" not in error
    assert [p.name for p in tmp_path.iterdir()] == [broken.name], "nothing written"
