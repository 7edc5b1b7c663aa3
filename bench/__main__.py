"""`python -m bench`: one run of the whole bench, at 10M and 100M events by default; writes
bench/results/bench-<N>.md per scale.

    python -m bench [--events N [N ...] | --scale small] [--format csv|parquet] [--keep DIR]
                    [--docs]

For each scale, one after the other: generates the demo company at about N usage events, times
a full `seatshift refresh` stage by stage with its peak memory, the lower bound (one DuckDB pass
over the same files computing the account-month rollup with distinct users), the peers on the
same rollup (pandas, polars streaming) and our own, a one-day incremental refresh with late
events and a correction, the floor of a one-day refresh (the same day added to a company whose
data costs next to nothing), and every dashboard query (cache off). Everything runs on this
machine, in this one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report, stages
from bench.dashboard import CALLS, VARIANTS, time_queries
from bench.measure import Measured, run_measured
from orchestration.lib import settings

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BENCHMARKS_DOC = settings.REPO_ROOT / "docs" / "benchmarks.md"
# Scales one run measures, in order (10M and 100M events in the same run by default).
SCALES = {"small": (300_000,), "default": (10_000_000, 100_000_000)}
PARQUET_FROM = 50_000_000  # CSV is 5.5x larger and 2.6x slower to load (measured on this stack)
PANDAS_UP_TO = 20_000_000  # pandas needs about 12 GB per 100M rows for this rollup
# The usage rollups: measures per account-month (actor type, feature, tier) and active actors.
ROLLUP_MODELS = (
    "int_usage_events_rolled_up_to_account_month",
    "int_usage_events_rolled_up_to_actor_month",
)
USAGE_ROLLUPS = tuple(f"intermediate.{model}" for model in ROLLUP_MODELS)
# Targets of a full refresh on the lake layout: at most 6 times the lower bound, and the load's
# share of it at most half of what it was when the raw rows were written into the DuckDB file
# (170 s of 355 s at 100M events in the last bench before the lake: 47.9%).
FULL_OVER_BOUND_TARGET = 6.0
LOAD_SHARE_BEFORE_LAKE = 170 / 355
# Across the scales of one run: an edit on a page costs what the price book costs, so the
# re-projection and the what-if take at most 50% longer at the largest scale than at the smallest;
# a one-day refresh costs what the day costs, so at most 1.3 times.
EDITS = ("re_projection", "re_projection (spread)", "what_if")
EDIT_GROWTH_TARGET = 1.5
DAY_GROWTH_TARGET = 1.3
# A one-day refresh costs at most this share of a full refresh of the same company.
DAY_SHARE_TARGET = 0.10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--events",
        type=int,
        nargs="+",
        help="usage events to generate, one company per number (default 10,000,000 100,000,000)",
    )
    size.add_argument(
        "--scale", choices=sorted(SCALES), help="small: about 300k events, a few minutes"
    )
    parser.add_argument(
        "--format", choices=("csv", "parquet"), help=f"default: parquet from {PARQUET_FROM:,}"
    )
    parser.add_argument(
        "--keep",
        help="work in this folder and keep it (default: a temp folder); a folder per scale "
        "inside it when there are several",
    )
    parser.add_argument(
        "--docs", action="store_true", help="also write the tables into docs/benchmarks.md"
    )
    parser.add_argument(
        "--out", help="results file, with one scale (default bench/results/bench-<events>.md)"
    )
    return parser


def _peer(
    engine: str, work: Path, fmt: str, files: list[Path], repeat: int, extra: list[str] = ()
) -> dict:
    command = [sys.executable, "-m", "bench.peers", engine, "--format", fmt]
    command += ["--repeat", str(repeat), *extra]
    if files:
        command += ["--files", *map(str, files)]
    output = work / f"peer-{engine}.out"
    measured = run_measured(command, env=dict(os.environ), output=output, cwd=settings.REPO_ROOT)
    lines = output.read_text(errors="replace").strip().splitlines()
    if measured.exit_code != 0 or not lines:
        raise RuntimeError(f"peer {engine} failed:\n" + "\n".join(lines[-20:]))
    result = json.loads(lines[-1])
    runs = result["seconds"]
    result["cold"] = runs[0]
    result["warm"] = min(runs[1:]) if len(runs) > 1 else None
    result["best"] = min(runs)
    result["rss"] = result["peak_bytes"]  # its own VmHWM: the bench's size does not leak in
    return result


def _floor(work: Path, fmt: str, files: list[Path]) -> dict:
    """bench.floor in a process of its own: the usage files written once as parts, then checked
    once (its JSON line)."""
    command = [sys.executable, "-m", "bench.floor", "--format", fmt, "--work", str(work)]
    command += ["--files", *map(str, files)]
    output = work / "floor.out"
    measured = run_measured(command, env=dict(os.environ), output=output, cwd=settings.REPO_ROOT)
    lines = output.read_text(errors="replace").strip().splitlines()
    if measured.exit_code != 0 or not lines:
        raise RuntimeError("bench.floor failed:\n" + "\n".join(lines[-20:]))
    return json.loads(lines[-1])


def _floor_row(floor: dict, full: stages.Refresh, bound: float) -> list[str]:
    """The floor of a full refresh against the target: when the floor alone is above 6 times the
    lower bound, no code on this layout and machine meets the target."""
    r = report
    rollups = _dbt_rollup_seconds(full.dbt_models)
    total = floor["write_seconds"] + floor["checks_seconds"] + (rollups or 0)
    over = r.ratio(total, bound)
    figure = (
        f"{r.seconds(total)} = {r.times(over)} the lower bound: the usage files written once as "
        f"parts, nothing judged ({r.seconds(floor['write_seconds'])}, "
        f"{floor['bytes_written'] / 1e6:,.0f} MB); the parts read once for an empty required "
        f"value and once for a key delivered twice ({r.seconds(floor['checks_seconds'])}); the "
        f"two usage rollup models of this refresh ({r.seconds(rollups)}); peak "
        f"{r.gigabytes(floor['peak_bytes'])}"
    )
    if over is None:
        verdict = "n/a"
    elif over > FULL_OVER_BOUND_TARGET:
        verdict = f"above {FULL_OVER_BOUND_TARGET:g}x: the full-refresh target is below the floor"
    else:
        verdict = f"within {FULL_OVER_BOUND_TARGET:g}x: the target is above the floor"
    return [
        "floor of a full refresh on this layout (the least a refresh of these files can spend: "
        "`bench/floor.py`)",
        figure,
        verdict,
    ]


def _one_day_floor_row(floor: stages.OneDayFloor, full_seconds: float) -> list[str]:
    """The floor of a one-day refresh against the target: when a one-day refresh of a company
    whose data costs next to nothing is above DAY_SHARE_TARGET of this scale's full refresh, no
    one-day refresh of this scale can meet it (the target is below the floor)."""
    r = report
    refresh = floor.refresh
    stages_seen = refresh.stages
    share = r.ratio(refresh.measured.seconds, full_seconds)
    dbt_models = sum(refresh.dbt_models.values())
    target = f"{DAY_SHARE_TARGET * 100:.0f}%"
    verdict = (
        f"above {target}: the one-day target is below the floor"
        if share is not None and share > DAY_SHARE_TARGET
        else f"within {target}: the target is above the floor"
    )
    return [
        "floor of a one-day refresh (the same day added to a company of "
        f"{floor.generated.accounts} accounts x {stages.MONTHS} months, whose data costs next to "
        "nothing: `bench/stages.py` one_day_floor)",
        f"{r.seconds(refresh.measured.seconds)} = {share * 100:.0f}% of this full refresh: "
        f"process start to the run's first event {r.seconds(stages_seen.get('startup'))}, load "
        f"and checks {r.seconds(stages_seen.get('load', 0) + stages_seen.get('checks', 0))}, "
        f"dbt {r.seconds(stages_seen.get('dbt'))} (its {len(refresh.dbt_models)} models "
        f"{r.seconds(dbt_models)}, and every data test)",
        verdict,
    ]


def _dbt_rollup_seconds(dbt_models: dict[str, float]) -> float | None:
    """The usage rollup models' seconds in a refresh's dbt log, together; None if one is absent."""
    seconds = [dbt_models.get(model) for model in USAGE_ROLLUPS]
    return None if None in seconds else sum(seconds)


def _compiled_rollup(warehouse: Path, work: Path) -> list[Path] | None:
    """The rollup models' SQL as a full refresh builds it: `dbt compile` of the models against
    an empty DuckDB file named like the warehouse (so the same catalog name, and no relation yet:
    the model's first-build branch, not its incremental one). A refresh keeps no dbt target."""
    folder = work / "compile-rollup"
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SEATSHIFT_DBT_DATABASE": str(folder / warehouse.name)}
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "compile", "--quiet",
         "--target", "prod", "--select", *ROLLUP_MODELS,
         "--target-path", str(folder / "target")],
        cwd=settings.dbt_project_dir(), env=env, capture_output=True, text=True,
    )  # fmt: skip
    found = [
        next(iter((folder / "target").glob(f"compiled/*/models/**/{model}.sql")), None)
        for model in ROLLUP_MODELS
    ]
    if completed.returncode != 0 or None in found:
        return None
    return found


def _memory(measured: Measured) -> str:
    return (
        f"{report.gigabytes(measured.peak_tree_rss_bytes)} (all processes at once, sampled); "
        f"largest process {report.gigabytes(measured.max_process_rss_bytes)}"
    )


def _copied(refresh: stages.Refresh) -> str:
    copy = stages.build_copy(refresh.report)
    if copy is None:
        return "n/a"
    copied, listed = copy
    return f"{copied / 1e6:,.1f} MB, beside {listed / 1e6:,.1f} MB of parts read in place"


def _stage_rows(refresh: stages.Refresh, label: str) -> list[list[str]]:
    s, steps = refresh.stages, refresh.steps
    wall = refresh.measured.seconds
    accounted = sum(s.values())
    rows = [
        [f"{label}: process start to the run's first event (imports, definitions, dbt manifest)",
         report.seconds(s.get("startup")), ""],
        [f"{label}: run planning (a *_PLANNED event per asset and check, before the run starts)",
         report.seconds(s.get("planning")), ""],
        [f"{label}: run start to first step", report.seconds(s.get("to first step")), ""],
        [f"{label}: load (raw assets, landing inventory)",
         f"{report.seconds(s.get('load'))}; telemetry.usage_events "
         f"{report.seconds(steps.get('telemetry__usage_events'))}", ""],
        [f"{label}: checks (GX, `*_matches_expectations`)",
         f"{report.seconds(s.get('checks'))}; usage events "
         f"{report.seconds(steps.get('telemetry__usage_events_matches_expectations'))}", ""],
        [f"{label}: dbt (`dbt_models`)",
         f"{report.seconds(s.get('dbt'))}; usage rollup models "
         f"{report.seconds(_dbt_rollup_seconds(refresh.dbt_models))}; "
         + ("full re-parse" if refresh.full_parse else "partial parse"), ""],
        [f"{label}: publish (`audit__refresh_log`)", report.seconds(s.get("publish")), ""],
        [f"{label}: bytes the build copied (the warehouse file; lake parts are read in place)",
         _copied(refresh), ""],
        [f"{label}: after the last step and between steps",
         report.seconds(wall - accounted) if s else "n/a", ""],
    ]  # fmt: skip
    return rows


def run(arguments: argparse.Namespace) -> list[Path]:
    """Every scale asked for, one after the other, in one run; docs/benchmarks.md gets them all."""
    scales = list(arguments.events or SCALES[arguments.scale or "default"])
    if arguments.out and len(scales) > 1:
        raise SystemExit("--out names one results file: give it with one --events number")
    keep = Path(arguments.keep).resolve() if arguments.keep else None
    if keep is not None and keep.exists() and any(keep.iterdir()):
        raise SystemExit(f"--keep {keep}: the folder must be empty or new")
    outs, summaries, figures = [], [], {}
    floors: dict[str, stages.OneDayFloor] = {}  # per file format, measured once per run
    for events in scales:
        work = None if keep is None else keep if len(scales) == 1 else keep / str(events)
        out, summary, figures[events] = _run_scale(arguments, events, work, floors)
        outs.append(out)
        summaries.append(summary)
    if len(figures) > 1:
        across = _across_scales(figures)
        print(across)
        summaries.append(across)
        (RESULTS_DIR / "bench-across-scales.md").write_text(across + "\n", encoding="utf-8")
    if arguments.docs:  # the figures and targets; the per-query tables stay in the results
        pointers = ", ".join(f"`{_repo_relative(out)}`" for out in outs)
        pointer = f"Every dashboard query's p50 and p95: {pointers}."
        report.replace_docs_section(BENCHMARKS_DOC, "\n\n".join(summaries) + f"\n\n{pointer}")
    return outs


def _repo_relative(path: Path) -> str:
    resolved = path.resolve()
    if resolved.is_relative_to(settings.REPO_ROOT):
        return str(resolved.relative_to(settings.REPO_ROOT))
    return path.name


def _across_scales(figures: dict[int, dict]) -> str:
    """The targets that compare scales of this run: the smallest against the largest."""
    small, large = min(figures), max(figures)
    a, b = figures[small], figures[large]
    rows = []
    for name in EDITS:
        p95_small, p95_large = a["dashboard"].get(name), b["dashboard"].get(name)
        growth = report.ratio(p95_large, p95_small)
        rows.append([
            f"`{name}` p95 at {large:,} events over {small:,}",
            f"{report.seconds(p95_large)} / {report.seconds(p95_small)} = {report.times(growth)}",
            f"<= {EDIT_GROWTH_TARGET:.1f}x: {report.verdict(growth, EDIT_GROWTH_TARGET)}",
        ])  # fmt: skip
    day = report.ratio(b["incremental_seconds"], a["incremental_seconds"])
    rows.append([
        f"one-day refresh at {large:,} events over {small:,}",
        f"{report.seconds(b['incremental_seconds'])} / {report.seconds(a['incremental_seconds'])}"
        f" = {report.times(day)}",
        f"<= {DAY_GROWTH_TARGET:.1f}x: {report.verdict(day, DAY_GROWTH_TARGET)}",
    ])  # fmt: skip
    table = report.markdown_table(["what", "figure", "target"], rows)
    return f"### Across the scales of this run\n\n{table}"


def _run_scale(
    arguments: argparse.Namespace,
    events: int,
    work: Path | None,
    floors: dict[str, stages.OneDayFloor],
) -> tuple[Path, str, dict]:
    """One company of about `events` usage events, start to end: (results file, its summary,
    the figures the scales are compared on). `floors`: the floor of a one-day refresh per file
    format, measured here for a format not measured yet in this run."""
    fmt = arguments.format or ("parquet" if events >= PARQUET_FROM else "csv")
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="seatshift-bench-"))
    keep = arguments.keep is not None
    landing, dagster_home = work / "landing", work / "dagster_home"
    warehouse = work / "warehouse" / "seatshift.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    load_at_start = os.getloadavg()[0]
    began = time.perf_counter()

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - began:7.1f} s] {text}", flush=True)

    try:
        say(f"generating about {events:,} usage events ({fmt})")
        generated = stages.generate_company(landing, events, fmt)
        files = generated.usage_files
        say(f"generated {generated.events:,} events in {generated.seconds:.1f} s")
        lower = _peer("duckdb", work, fmt, files, repeat=3)
        say(f"lower bound: cold {lower['cold']:.2f} s, warm {lower['warm']:.2f} s")
        floor = _floor(work, fmt, files)
        say(f"floor: parts written once {floor['write_seconds']:.1f} s, "
            f"checked once {floor['checks_seconds']:.1f} s")  # fmt: skip
        try:
            full = stages.run_refresh(landing, warehouse, dagster_home, work / "refresh-full.out")
        except stages.RefreshFailed as failed:  # a figure too: the run goes on to the next scale
            say(f"full refresh FAILED after {failed.measured.seconds:.1f} s: {failed.reason}")
            text, summary = _failed_document(
                events=events, fmt=fmt, generated=generated, lower=lower, failed=failed,
                load=(load_at_start, os.getloadavg()[0]),
            )  # fmt: skip
            return _write_results(arguments, events, text), summary, {}
        say(f"full refresh: {full.measured.seconds:.1f} s")
        compiled = _compiled_rollup(warehouse, work)
        ours = None
        if compiled is not None:
            ours = _peer(
                "ours", work, fmt, [], repeat=3,
                extra=["--warehouse", str(warehouse), "--rollup-sql", str(compiled[0]),
                       "--actor-sql", str(compiled[1])],
            )  # fmt: skip
            say(f"ours: warm {ours['warm']:.2f} s")
        polars = _peer("polars", work, fmt, files, repeat=3)
        say(f"polars streaming: warm {polars['warm']:.2f} s")
        pandas = None
        if events <= PANDAS_UP_TO:
            pandas = _peer("pandas", work, fmt, files, repeat=1)
            say(f"pandas: {pandas['best']:.2f} s")
        dashboard = time_queries(warehouse)
        say(f"dashboard: {len(dashboard)} query functions x {CALLS} calls")
        day = stages.add_one_day(landing, generated.last_day, generated.events, fmt)
        incremental = stages.run_refresh(
            landing, warehouse, dagster_home, work / "refresh-incremental.out"
        )
        say(f"one-day incremental refresh: {incremental.measured.seconds:.1f} s")
        nothing_new = stages.run_refresh(
            landing, warehouse, dagster_home, work / "refresh-nothing-new.out"
        )
        say(f"refresh with nothing new: {nothing_new.measured.seconds:.1f} s")
        if fmt not in floors:
            floors[fmt] = stages.one_day_floor(work / "one-day-floor", fmt)
        one_day_floor = floors[fmt]
        say(f"floor of a one-day refresh: {one_day_floor.refresh.measured.seconds:.1f} s")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    load_at_end = os.getloadavg()[0]

    text, summary = _document(
        events=events, fmt=fmt, generated=generated, lower=lower, full=full, ours=ours,
        polars=polars, pandas=pandas, dashboard=dashboard, day=day, incremental=incremental,
        nothing_new=nothing_new, load=(load_at_start, load_at_end), floor=floor,
        one_day_floor=one_day_floor,
    )  # fmt: skip
    compared = {
        "dashboard": {name: p95 for name, (_, p95) in dashboard.items()},
        "incremental_seconds": incremental.measured.seconds,
    }
    return _write_results(arguments, events, text), summary, compared


def _write_results(arguments: argparse.Namespace, events: int, text: str) -> Path:
    out = Path(arguments.out) if arguments.out else RESULTS_DIR / f"bench-{events}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    return out


def _scale_rows(*, events, fmt, generated, lower, load) -> list[list[str]]:
    """The rows every results table opens with: the company, the machine, generation, the bound."""
    r = report
    rate = generated.events / generated.seconds
    minutes_for_100m = 100_000_000 / rate / 60
    return [
        ["scale",
         f"{generated.events:,} usage events ({generated.usage_rows:,} rows with late and "
         f"re-delivered copies), {generated.accounts:,} accounts x {stages.MONTHS} months, {fmt}, "
         f"{generated.usage_bytes / 1e6:,.0f} MB in {len(generated.usage_files)} usage files", ""],
        ["machine",
         f"{os.cpu_count()} cores, {_memory_total()}, Python {platform.python_version()}; "
         f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end", ""],
        ["generate (`orchestration.lib.generator.generate`)",
         f"{r.seconds(generated.seconds)} = {rate:,.0f} events/s",
         f"100M under 10 min: {minutes_for_100m:.1f} min at this rate "
         f"({r.verdict(minutes_for_100m, 10)})"],
        ["lower bound: one DuckDB pass over the usage files (account x month: tasks, agent "
         "tasks, tokens, distinct active users)",
         f"{r.seconds(lower['warm'])} warm, {r.seconds(lower['cold'])} cold (first query of a "
         f"fresh process); peak {r.gigabytes(lower['rss'])}", ""],
    ]  # fmt: skip


def _failed_document(*, events, fmt, generated, lower, failed, load) -> tuple[str, str]:
    """A scale whose full refresh failed: what was measured up to it, and the failure itself."""
    rows = _scale_rows(events=events, fmt=fmt, generated=generated, lower=lower, load=load)
    rows += [
        ["full `seatshift refresh` (own process and Dagster instance)",
         f"FAILED after {report.seconds(failed.measured.seconds)}: {failed.reason}",
         f"<= {FULL_OVER_BOUND_TARGET:g}x the lower bound: NOT met (no figure)"],
        ["full refresh: peak memory", _memory(failed.measured), ""],
    ]  # fmt: skip
    main = report.markdown_table(["what", "figure", "target"], rows)
    summary = (
        f"### `python -m bench --events {events}` ({fmt})\n\n{main}\n\n"
        "The full refresh failed, so nothing after it (peers on the loaded table, incremental, "
        "dashboard) was measured at this scale."
    )
    return summary + "\n", summary


def _document(**figures) -> tuple[str, str]:
    """The whole results file, and its summary (heading and main table) for docs/benchmarks.md."""
    main, queries = _tables(**figures)
    events, fmt = figures["events"], figures["fmt"]
    summary = f"### `python -m bench --events {events}` ({fmt})\n\n{main}"
    return (
        f"{summary}\n\n"
        f"Dashboard queries ({len(figures['dashboard']) - len(VARIANTS)} public functions of "
        f"`dashboards/lib/queries/`, and {', '.join(f'`{name}`' for name in VARIANTS)} with "
        f"other arguments; {CALLS} calls each, Streamlit caches cleared before every "
        "call; p95 by nearest rank, i.e. the slowest of 7):\n\n"
        f"{queries}\n"
    ), summary


def _tables(
    *,
    events,
    fmt,
    generated,
    lower,
    full,
    ours,
    polars,
    pandas,
    dashboard,
    day,
    incremental,
    nothing_new,
    load,
    floor,
    one_day_floor,
) -> tuple[str, str]:
    r = report
    full_seconds = full.measured.seconds
    bound = lower["warm"]
    slowest = sorted(full.dbt_models.items(), key=lambda item: -item[1])[:3]
    road_ahead_models = [
        name for name in full.dbt_models if "project" in name or "migration_plan" in name
    ]
    road_ahead = sum(full.dbt_models[name] for name in road_ahead_models)
    peak = max(full.measured.peak_tree_rss_bytes, incremental.measured.peak_tree_rss_bytes)
    worst_name, (_, worst_p95) = max(dashboard.items(), key=lambda item: item[1][1])
    ours_seconds = ours["warm"] if ours else None
    dbt_rollup = _dbt_rollup_seconds(full.dbt_models)
    same = all(peer is None or peer["result"] == lower["result"] for peer in (polars, pandas))
    pandas_figure = "skipped: memory (about 12 GB per 100M rows)"
    if pandas:
        pandas_figure = f"{r.seconds(pandas['best'])} (one run); peak {r.gigabytes(pandas['rss'])}"
    new_rows = stages.loaded_rows(incremental.report, day.files[0])
    loaded = (
        f"; the file: {new_rows[0]:,} read, {new_rows[1]:,} loaded, {new_rows[2]:,} quarantined"
        if new_rows
        else ""
    )
    full_over_bound = r.ratio(full_seconds, bound)
    load_share = r.ratio(full.stages.get("load"), full_seconds)
    incremental_share = r.ratio(incremental.measured.seconds, full_seconds)
    ours_over_polars = r.ratio(ours_seconds, polars["warm"])
    pandas_over_ours = r.ratio(pandas["best"] if pandas else None, ours_seconds)
    rows = [
        *_scale_rows(events=events, fmt=fmt, generated=generated, lower=lower, load=load),
        ["full `seatshift refresh` (own process and Dagster instance)",
         r.seconds(full_seconds),
         f"<= {FULL_OVER_BOUND_TARGET:g}x the lower bound: {r.times(full_over_bound)} "
         f"({r.verdict(full_over_bound, FULL_OVER_BOUND_TARGET)})"],
        _floor_row(floor, full, bound),
        ["full refresh: the load's share (raw assets over the whole refresh)",
         f"{load_share * 100:.1f}%" if load_share is not None else "n/a",
         f"<= half of {LOAD_SHARE_BEFORE_LAKE * 100:.1f}% (before the lake): "
         f"{r.verdict(load_share, LOAD_SHARE_BEFORE_LAKE / 2)}"],
        ["full refresh: peak memory", _memory(full.measured),
         f"< 6 GB: {r.verdict(peak / 1e9, 6)}"],
        *_stage_rows(full, "full refresh"),
        ["full refresh: slowest dbt models (dbt's log)",
         "; ".join(f"{name.split('.')[-1]} {r.seconds(value)}" for name, value in slowest), ""],
        ["full refresh: projection and migration plan (dbt's log)",
         f"{r.seconds(road_ahead)} of the dbt models' {r.seconds(sum(full.dbt_models.values()))}"
         f" ({len(road_ahead_models)} models)", ""],
        ["peer: polars streaming (`scan_*().group_by().agg().collect(engine='streaming')`)",
         f"{r.seconds(polars['warm'])} warm, {r.seconds(polars['cold'])} cold; peak "
         f"{r.gigabytes(polars['rss'])}", ""],
        ["peer: pandas (`read_csv(engine='pyarrow')`/`read_parquet`, `groupby().agg()`)",
         pandas_figure, ""],
        ["ours: the rollup models' compiled SQL (per account-month, per actor) on the loaded "
         "table, then measures and distinct users per account-month (as the marts count them)",
         (f"{r.seconds(ours_seconds)} warm, {r.seconds(ours['cold'])} cold; peak "
          f"{r.gigabytes(ours['rss'])}") if ours else "n/a (compiled SQL not found)",
         f"<= 1.0x polars: {r.times(ours_over_polars)} ({r.verdict(ours_over_polars, 1.0)}); "
         f"pandas / ours >= 3x: {r.times(pandas_over_ours)} "
         f"({r.verdict(pandas_over_ours, 3.0, at_least=True)})"],
        ["ours inside the full refresh (dbt's log: the two usage rollup models)",
         r.seconds(dbt_rollup), ""],
        ["the engines agree",
         ("lower bound, polars and pandas: identical groups and totals"
          if same else "lower bound, polars and pandas DIFFER (see peer-*.out)")
         + (f"; ours has {lower['result']['tasks'] - ours['result']['tasks']:,} fewer tasks "
            "(it drops re-delivered events), the same active users: "
            f"{ours['result']['active_users'] == lower['result']['active_users']}"
            if ours else ""), ""],
        ["one-day incremental refresh",
         f"{r.seconds(incremental.measured.seconds)}: {day.events:,} events of {day.day} + "
         f"{day.late_events} events {stages.LATE_DAYS} days late + a seat `correction` voiding "
         f"{day.correction_of or '(none found)'}{loaded}",
         f"< {DAY_SHARE_TARGET * 100:.0f}% of a full refresh: {incremental_share * 100:.0f}% "
         f"({r.verdict(incremental_share, DAY_SHARE_TARGET)})"],
        _one_day_floor_row(one_day_floor, full_seconds),
        ["incremental: peak memory", _memory(incremental.measured), ""],
        *_stage_rows(incremental, "incremental"),
        ["refresh with nothing new (the same landing folder again: no dbt build runs)",
         f"{r.seconds(nothing_new.measured.seconds)} = "
         f"{r.ratio(nothing_new.measured.seconds, full_seconds) * 100:.0f}% of a full refresh; "
         f"dbt step {r.seconds(nothing_new.stages.get('dbt'))}", ""],
        ["dashboard: slowest query (p95, cache off)", f"{r.seconds(worst_p95)} ({worst_name})",
         f"every p95 < 300 ms: {r.verdict(worst_p95, 0.3)}"],
        ["dashboard: median p50 of all query functions",
         r.seconds(statistics.median(p50 for p50, _ in dashboard.values())), ""],
    ]  # fmt: skip
    main = r.markdown_table(["what", "figure", "target"], rows)
    query_rows = [
        [f"`{name}`", r.seconds(p50), r.seconds(p95)]
        for name, (p50, p95) in sorted(dashboard.items(), key=lambda item: -item[1][1])
    ]
    return main, r.markdown_table(["function", "p50", "p95"], query_rows)


def _memory_total() -> str:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return "memory unknown"
    return f"{pages / 2**30:.0f} GiB RAM"


def main(argv: list[str] | None = None) -> int:
    run(_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
