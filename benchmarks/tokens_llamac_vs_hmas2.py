"""Claim (b): LLaMAC spends fewer tokens than HMAS-2 on the same Easy instances with the local model.

For each instance (Easy 2x2: all 10 golden instances; Easy 2x4: the first few), one LLaMAC and one
HMAS-2 episode run on the same server, gateway and limits. Each finished episode is appended to a JSONL
file at once (the whole run takes hours on 2 cores; partial results are usable). The summary prints,
per size: success, prompt tokens per step (target: at most a third of the paper's ~3.4k (2x2) and
~5.0k (2x4) input+output tokens per step) and the LLaMAC / HMAS-2 token ratio over instances both
solved (the paper: 0.48 on 2x2, 0.24 on 2x4). With no key it starts the local model server; with
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` set it measures that provider's model instead.

Prompt tokens are what the provider bills (every call's full prompt). The server reuses the prefix a
call shares with the one before it (rules, memory, state come first in every prompt of a step), so it
evaluates far fewer: its log (kept beside the JSONL, ``<out>.server.log``) has one ``prompt eval time
... / N tokens`` line per request; each episode's row stores the sum over its own requests, which gives
the uncached prompt tokens per step as well.

    nice .venv/bin/python benchmarks/tokens_llamac_vs_hmas2.py --out /tmp/tokens.jsonl [--n2x4 3]
        [--preset paper|lean] [--critics merged] [--actor-gate direct|apply] [--assessor on-disagreement]
                                  # LLaMAC's knobs; HMAS-2 is the same either way. One file per setting
        [--coordinators llamac]   # one coordinator per process (two cores); concatenate the files to report
    .venv/bin/python benchmarks/tokens_llamac_vs_hmas2.py --out /tmp/tokens.jsonl --report
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from pathlib import Path

from episode_wall_time import evaluated_per_call, play  # same folder: benchmarks are run as scripts

from graphs.context import DEFAULT_PRESET, LLaMACConfig, coordinator_config, resolve_knobs
from llamac.app.parser import add_knob_flags
from llamac.app.run_config import knob_values
from llamac.runtime.local_model import LocalModelServer
from llamac.runtime.logs import configure_logging
from llamac.runtime.settings import Settings
from tasks.grid_easy import GridEasy

PAPER_TOKENS_PER_STEP = {"2x2": 3400, "2x4": 5000}
PAPER_RATIO = {"2x2": 0.48, "2x4": 0.24}


def server_log_of(out: Path) -> Path:
    return out.with_name(out.name + ".server.log")


def plan(n2x2: int, n2x4: int, first2x2: int = 0, first2x4: int = 0) -> list[tuple[str, int]]:
    """Interleaved so that both sizes have results early; instances from ``first2x2`` / ``first2x4`` on
    (so two processes, one per core, can share the instances without playing one twice)."""
    order = []
    for i in range(max(n2x2, n2x4)):
        if first2x2 <= i < n2x2:
            order.append(("2x2", i))
        if first2x4 <= i < n2x4:
            order.append(("2x4", i))
    return order


def report(path: Path) -> None:
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []
    print(f"{len(rows)} episodes in {path}")
    evaluated = bool(rows) and all("evaluated_prompt_tokens" in r for r in rows)
    for size in ("2x2", "2x4"):
        mine = [r for r in rows if r["size"] == size]
        if not mine:
            continue
        for coordinator in ("llamac", "hmas2"):
            eps = [r for r in mine if r["coordinator"] == coordinator]
            if not eps:
                continue
            wins = [r for r in eps if r["success"]]
            per_step = [r["prompt_tokens"] / r["steps"] for r in eps if r["steps"]]
            total_per_step = [r["tokens"] / r["steps"] for r in eps if r["steps"]]
            uncached = (
                f"uncached prompt tok/step {statistics.mean(r['evaluated_prompt_tokens'] / r['steps'] for r in eps if r['steps']):.0f} "
                if evaluated and per_step else ""
            )
            print(
                f"Easy {size} {coordinator:<6} episodes {len(eps):>2} success {len(wins)}/{len(eps)} "
                f"steps {statistics.mean(r['steps'] for r in eps):.1f} "
                f"feedback {statistics.mean(r['feedback'] for r in eps):.1f} "
                f"prompt tok/step {statistics.mean(per_step) if per_step else float('nan'):.0f} "
                f"(target <= {PAPER_TOKENS_PER_STEP[size] / 3:.0f}) "
                f"{uncached}"
                f"all tok/step {statistics.mean(total_per_step) if total_per_step else float('nan'):.0f} "
                f"tokens/episode {statistics.mean(r['tokens'] for r in eps):.0f}"
            )
            lines = sum(r.get("plan_lines", 0) for r in eps)
            if lines and all("plan_lines" in r for r in eps):
                fixed = sum(r.get("gate_fixes", 0) for r in eps)
                skipped = sum(r.get("assessor_skips", 0) for r in eps)
                print(
                    f"Easy {size} {coordinator:<6} executed plan lines {lines:.0f}, of which the actors' rule-gate "
                    f"fixes {fixed:.0f} ({100 * fixed / lines:.0f} %); assessor calls skipped in {skipped:.0f} of "
                    f"{sum(r['steps'] for r in eps)} steps"
                )
        both = {}
        for r in mine:
            both.setdefault(r["instance"], {})[r["coordinator"]] = r
        pairs = [(p["llamac"], p["hmas2"]) for p in both.values() if "llamac" in p and "hmas2" in p]
        solved = [(a, b) for a, b in pairs if a["success"] and b["success"]]
        if solved:
            ratio = statistics.mean(a["tokens"] for a, _ in solved) / statistics.mean(
                b["tokens"] for _, b in solved
            )
            print(
                f"Easy {size} LLaMAC/HMAS-2 tokens over {len(solved)} instances both solved: {ratio:.2f} "
                f"(paper {PAPER_RATIO[size]})"
            )
        if pairs:
            ratio_all = statistics.mean(a["tokens"] for a, _ in pairs) / statistics.mean(
                b["tokens"] for _, b in pairs
            )
            print(
                f"Easy {size} LLaMAC/HMAS-2 tokens over {len(pairs)} instance pairs (any outcome): {ratio_all:.2f}"
            )
        if evaluated:
            share = 1 - sum(r["evaluated_prompt_tokens"] for r in mine) / sum(r["prompt_tokens"] for r in mine)
            print(f"Easy {size} prompt tokens served from the prefix cache: {100 * share:.1f} % "
                  f"({sum(int(r['llm_calls']) for r in mine)} requests)")
    print()
    print(markdown_table(rows, evaluated))


def instance_list(instances: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``0-2, 5``."""
    spans: list[list[int]] = []
    for i in sorted(instances):
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return ", ".join(f"{a}-{b}" if b > a + 1 else (f"{a}, {b}" if b > a else f"{a}") for a, b in spans)


def label(row: dict) -> str:
    """The table's coordinator column: HMAS-2, or LLaMAC with its preset (rows from before presets: the
    knobs they name)."""
    if row["coordinator"] == "hmas2":
        return "HMAS-2"
    if row.get("preset"):
        own = resolve_knobs("llamac", row["preset"], {})
        changed = [f"{k.replace('_', '-')} {v}" for k, v in (row.get("knobs") or {}).items() if own.get(k, v) != v]
        return f"LLaMAC {row['preset']}" + (f" ({', '.join(changed)})" if changed else "")
    knobs = [f"{k} {row[k]}" for k in ("critics", "actor_gate", "assessor") if row.get(k)]
    return "LLaMAC (" + ", ".join(knobs) + ")" if knobs else "LLaMAC"


PLANS_PER_CALL = {"critic_pair": 2, "explore_critic": 1, "exploit_critic": 1, "assessor": 1, "planner": 1}
"""How many plans each plan-writing role's answer holds (the merged critics write both in one call)."""


def output_per_plan(rows: list[dict]) -> str:
    """Output tokens per plan written (critics', assessor's, HMAS-2 planner's answers), over the rows that
    recorded their calls by role; ``n/a`` when none did."""
    tokens = plans = 0
    for r in rows:
        for role, per in (r.get("by_role") or {}).items():
            if role in PLANS_PER_CALL:
                tokens += per["completion_tokens"]
                plans += PLANS_PER_CALL[role] * per["calls"]
    return f"{tokens / plans:.0f}" if plans else "n/a"


def markdown_table(rows: list[dict], evaluated: bool) -> str:
    """The README's and results/llm_benchmarks.md's table, per size and coordinator (means over episodes;
    output tokens per call and the gate's share are totals over the episodes' calls and executed lines)."""
    lines = [
        "| task | model | coordinator | instances | solved | steps | Feedback | calls per step | billed prompt tokens "
        "per step | uncached prompt tokens per step | output tokens per call | output tokens per plan | gate fixes / plan lines | "
        "all tokens per episode | wall per episode | wall per step |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in ("2x2", "2x4"):
        groups: dict[tuple[str, str], list[dict]] = {}  # (model, coordinator) -> rows, in order of appearance
        for r in rows:
            if r["size"] == size:  # rows of the first benchmark files did not all record their model
                groups.setdefault((r.get("model", "n/a"), label(r)), []).append(r)
        for (model, name), group in groups.items():
            eps = [r for r in group if r["steps"]]
            if not eps:
                continue

            def mean(key: str, per_step: bool = False, eps: list[dict] = eps) -> float:
                return statistics.mean(r[key] / r["steps"] if per_step else r[key] for r in eps)

            uncached = f"{mean('evaluated_prompt_tokens', True):,.0f}" if evaluated else "n/a"
            calls = sum(r["llm_calls"] for r in eps)
            output = f"{sum(r['completion_tokens'] for r in eps) / calls:.0f}" if calls else "n/a"
            plan_lines = sum(r.get("plan_lines", 0) for r in eps)
            gate = (f"{sum(r.get('gate_fixes', 0) for r in eps):.0f} / {plan_lines:.0f} "
                    f"({100 * sum(r.get('gate_fixes', 0) for r in eps) / plan_lines:.0f} %)" if plan_lines else "n/a")
            cut = {r.get("max_steps") for r in eps} - {None}
            solved = f"{sum(bool(r['success']) for r in eps)}/{len(eps)}" + (f" (cut at {min(cut)} steps)" if cut else "")
            lines.append(
                f"| Easy {size} | {model} | {name} | {instance_list([r['instance'] for r in eps])} | "
                f"{solved} | {mean('steps'):.1f} | {mean('feedback'):.1f} | "
                f"{mean('llm_calls', True):.1f} | {mean('prompt_tokens', True):,.0f} | {uncached} | {output} | {output_per_plan(eps)} | {gate} | "
                f"{mean('tokens'):,.0f} | "
                f"{mean('episode_wall_s'):,.0f} s | {mean('episode_wall_s', True):.0f} s |"
            )
    return "\n".join(lines)


async def run(settings: Settings, url: str | None, out: Path, order: list[tuple[str, int]], log: Path | None = None,
              config: LLaMACConfig | None = None, coordinators: tuple[str, ...] = ("llamac", "hmas2"),
              preset: str = DEFAULT_PRESET, knobs: dict | None = None, max_steps: int | None = None) -> None:
    """Play the missing (size, instance, coordinator) episodes; an interrupted file is resumed.

    With ``log`` (the local server's), each row also gets the episode's evaluated prompt tokens, read
    off the requests logged since the previous row, so a resumed file keeps every earlier figure."""
    seen = len(evaluated_per_call(log))
    done = set()
    if out.exists():
        done = {
            (r["size"], r["instance"], r["coordinator"])
            for r in map(json.loads, out.read_text().splitlines())
        }
    for size, instance in order:
        rows, cols = (int(x) for x in size.split("x"))
        for coordinator in coordinators:
            if (size, instance, coordinator) in done:
                continue
            task = GridEasy.from_instance(rows, cols, instance).with_notation(
                (config or LLaMACConfig()).notation if coordinator == "llamac" else "authors")
            summary = await play(
                settings, url, coordinator, task, f"tokens-{size}-{instance}-{coordinator}", max_steps, config
            )
            line = {
                "size": size,
                "instance": instance,
                "model": settings.model_for("assessor"),
                "preset": preset if coordinator == "llamac" else None,
                "knobs": knobs if coordinator == "llamac" else None,
                "max_steps": max_steps,
                "actor_gate": (config or LLaMACConfig()).actor_gate,
                "assessor": (config or LLaMACConfig()).assessor,
                "critics": (config or LLaMACConfig()).critics,
                **{k: v for k, v in summary.items() if k != "task_metrics"},
            }
            calls = int(summary["llm_calls"])
            logged = evaluated_per_call(log)[seen:seen + calls]
            if log is not None and len(logged) == calls:
                line["evaluated_prompt_tokens"] = sum(logged)
            seen += calls
            with out.open("a") as fh:
                fh.write(json.dumps(line) + "\n")
            print(
                f"{size} #{instance} {coordinator}: success={summary['success']} steps={summary['steps']} "
                f"tokens={summary['tokens']:.0f} wall={summary['episode_wall_s']}s",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n2x2", type=int, default=10)
    parser.add_argument("--n2x4", type=int, default=3)
    parser.add_argument("--first2x2", type=int, default=0, help="first Easy 2x2 instance to play (default 0)")
    parser.add_argument("--first2x4", type=int, default=0, help="first Easy 2x4 instance to play (default 0)")
    add_knob_flags(parser)
    parser.add_argument("--coordinators", default="llamac,hmas2", help="which to play, comma-separated")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="cut each episode after N steps (per-step figures stay exact; a cut episode is unsolved)")
    parser.add_argument("--report", action="store_true", help="only summarise the JSONL file")
    parser.add_argument("--server-log", type=Path, default=None, help="where the local server logs (default: <out>.server.log)")
    args = parser.parse_args()
    log = args.server_log or server_log_of(args.out)
    order = plan(args.n2x2, args.n2x4, args.first2x2, args.first2x4)
    knobs = resolve_knobs("llamac", args.preset, knob_values(args))
    config = coordinator_config("llamac", knobs)
    coordinators = tuple(c for c in args.coordinators.split(",") if c)
    if not coordinators or set(coordinators) - {"llamac", "hmas2"}:
        parser.error("--coordinators takes llamac and/or hmas2")
    if not args.report:
        settings = Settings()
        configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
        if settings.resolved_provider() == "local":
            with LocalModelServer.from_settings(settings, log_path=log) as server:
                asyncio.run(run(settings, server.url, args.out, order, log, config, coordinators,
                                args.preset or DEFAULT_PRESET, knobs, args.max_steps))
        else:  # a provider's model, chosen by the environment as everywhere else
            asyncio.run(run(settings, None, args.out, order, None, config, coordinators,
                            args.preset or DEFAULT_PRESET, knobs, args.max_steps))
    report(args.out)


if __name__ == "__main__":
    main()
