"""Replay every golden transition of the authors' grid environment through our tasks.

A line must match exactly (doable lists, the authors' doable text, next board incl. item order,
skip feedback, collision, syntax-check verdict and text, run_exp outcome) unless it exercises a
behaviour golden/README.md lists as a bug. Such lines are decided from the line's content *before*
looking at our result (never "whatever did not match"), counted as deviations, and checked against
the behaviour our module docstrings promise instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tasks.base import DirectFeedback, Plan, PlanErrorKind, Suspicious
from tasks.grid_common import GridState, GridTask, skip_text, split_official, syntax_feedback_text
from tasks.grid_easy import GridEasy
from tasks.grid_hard import GridHard
from tasks.plans import numbers, parse_agent_coords
from tests.tasks.conftest import TALLY

FILES = ["easy_2x2", "easy_2x4", "easy_4x8", "easy_edge_cases", "hard_2x2", "hard_2x4", "hard_4x8",
         "hard_edge_cases"]
OUTCOMES = {"continue": (False, False, None), "success": (True, True, None),
            "failure over query time limit": (True, False, "step_limit"), "Collision": (True, False, "collision")}


def _task(d: dict) -> tuple[GridTask, GridState]:
    cls = GridEasy if d["difficulty"] == "easy" else GridHard
    task = cls.from_state_dict(d["rows"], d["cols"], d["state_before"], step_limit=d["query_time_limit"])
    return task, task.state_from_dict(d["state_before"], t=d["step"])


def listed_bugs(task: GridTask, state: GridState, joint: dict[str, str], flags: dict) -> dict[str, set[str]]:
    """Which agents' entries exercise a README-listed bug, by kind (decided from the line alone)."""
    bugs: dict[str, set[str]] = {}
    add = lambda kind, key: bugs.setdefault(kind, set()).add(key)  # noqa: E731
    movers: dict[str, str] = {}
    for key, value in joint.items():
        split = split_official(value)
        if split is None:
            add("silent_drop", key)
            continue
        item, loc = split
        coords = parse_agent_coords(key)
        if isinstance(task, GridEasy):
            digits = tuple(float(c) for c in re.findall(r"\d", key))[:2]
            if item.startswith("target_"):
                add("target_moved", key)
            if coords is None or coords != digits or task.cell_of(coords) is None:
                add("digit_coordinates", key)
            if "square" in loc and (task.cell_of(numbers(loc)) is None
                                    or numbers(loc) != tuple(float(c) for c in re.findall(r"\d", loc))[:2]):
                add("digit_coordinates", key)
            continue
        if "position" in loc and len(numbers(loc)) != 2:
            add("crash", key)
            continue
        cell = task.centre_cell(coords)
        if cell is None:
            continue
        if task.find_box(state.places, cell, item) is None:
            add("check_silent_box_absent", key)
        elif item in movers:
            add("check_silent_same_box", key)
        else:
            movers[item] = key
    if flags.get("exception") and not bugs:
        add("crash", "?")
    return bugs


def check_line(d: dict) -> tuple[str, list[str]]:
    """('matched' | 'deviation', problems) for one golden line."""
    task, state = _task(d)
    flags, joint = d["flags"], d["joint_action"]
    problems: list[str] = []
    expect = lambda ok, what: ok or problems.append(what)  # noqa: E731

    golden_doable = d["doable_actions"]
    if isinstance(task, GridEasy):
        golden_doable = {a: list(dict.fromkeys(v)) for a, v in golden_doable.items()}  # README: once each
    expect(task.doable(state) == golden_doable, "doable lists")
    expect(task.authors_doable_text(state) == d["doable_text"], "authors' doable text")

    bugs = listed_bugs(task, state, joint, flags)
    flagged = set().union(*bugs.values()) if bugs else set()
    tr = task.transition(state, joint)
    out = task.step(state, joint)
    errors = task.validate_plan(state, Plan(tuple(joint.items())))
    by_agent = {e.agent: e for e in errors}
    step_bugs = {k: v for k, v in bugs.items() if not k.startswith("check_silent")}

    if not step_bugs:  # the transition must be the authors' exactly
        expect(task.state_dict(GridState(tr.places)) == d["state_after"], "next board")
        expect("".join(tr.feedback) == flags["system_error_feedback"], "skip feedback")
        expect((tr.collision is not None) == flags["collision"], "collision flag")
        expect((tr.places and all(not p for p in tr.places)) == flags["success"], "success flag")
        done, won, failure = OUTCOMES[flags["run_exp_outcome"]]
        expect((out.done, out.success, out.failure) == (done, won, failure), "run_exp outcome")
        if failure == "collision":
            expect(out.state.places == state.places and out.state.t == state.t + 1, "collision not committed")
        elif "collision_check" in flags:
            expect((tr.collision or "") == flags["collision_check"]["feedback"], "collision_check text")
    else:  # our promise instead: flagged entries are skipped with feedback, nothing crashes
        silent = {skip_text(task._read(k, joint[k]).label if isinstance(task, GridEasy) else task.read(k, joint[k]).label)
                  for k in bugs.get("silent_drop", ())}
        if set(step_bugs) == {"silent_drop"} and d["state_after"] is not None:
            expect(task.state_dict(GridState(tr.places)) == d["state_after"], "board (silent drop)")
            expect(silent <= set(tr.feedback), "feedback for dropped entries")
            expect("".join(f for f in tr.feedback if f not in silent) == flags["system_error_feedback"],
                   "other feedback (silent drop)")
        else:
            rest = {k: v for k, v in joint.items() if k not in flagged}
            expect(tr.places == task.transition(state, rest).places, "flagged entries change nothing")
            expect(len(tr.feedback) >= len(flagged), "feedback for every flagged entry")
        expect(tr.collision is None and not out.done, "flagged entries end nothing")

    if not bugs:
        syn = flags["syntactic_check"]
        if syn["exception"] is None:
            expect((not errors) == syn["passes"], "syntax verdict")
            expect(syntax_feedback_text(errors) == syn["feedback_text"], "syntax feedback text")
    else:
        kinds = {"silent_drop": {PlanErrorKind.MALFORMED_ACTION}, "crash": {PlanErrorKind.MALFORMED_ACTION,
                 PlanErrorKind.UNKNOWN_AGENT}, "target_moved": {PlanErrorKind.NOT_DOABLE},
                 "digit_coordinates": {PlanErrorKind.UNKNOWN_AGENT, PlanErrorKind.NOT_DOABLE},
                 "check_silent_box_absent": {PlanErrorKind.NOT_DOABLE},
                 "check_silent_same_box": {PlanErrorKind.CONFLICT}}
        for kind, keys in bugs.items():
            for key in keys - {"?"}:
                expect(key in by_agent and by_agent[key].kind in kinds[kind], f"validate_plan flags {kind}")
        syn = flags["syntactic_check"]
        if syn["exception"] is None and "crash" not in bugs:
            others = [e for e in errors if e.agent not in flagged]
            expect(syntax_feedback_text(others) == syn["feedback_text"], "unflagged syntax feedback")
    return ("deviation" if bugs else "matched"), problems


@pytest.mark.parametrize("name", FILES)
def test_golden_transitions_replay(golden: Path, name: str) -> None:
    lines = (golden / "transitions" / f"{name}.jsonl").read_text().splitlines()
    assert lines
    failures = []
    for n, raw in enumerate(lines):
        d = json.loads(raw)
        verdict, problems = check_line(d)
        if problems:
            failures.append(f"line {n} ({d['instance']} step {d['step']}, {d['case']}): {problems}")
        else:
            TALLY["matched" if verdict == "matched" else "deviations"] += 1
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
@pytest.mark.parametrize("size", [(2, 2), (2, 4), (4, 8)])
def test_seeded_generator_reproduces_golden_instances(golden: Path, difficulty: str, size: tuple) -> None:
    cls = GridEasy if difficulty == "easy" else GridHard
    index = {e["file"]: e for e in json.loads((golden / "instances" / "index.json").read_text())["instances"]}
    for k in range(10):
        stem = f"{difficulty}_{size[0]}x{size[1]}_{k}"
        stored = json.loads((golden / "instances" / f"{stem}.json").read_text())
        drawn = cls.from_seed(*size, k)
        assert drawn.state_dict(drawn.initial_state()) == stored
        assert list(drawn.state_dict(drawn.initial_state())) == list(stored)  # key order too
        shipped = cls.from_instance(*size, k)
        assert shipped.initial_state() == drawn.initial_state()
        assert shipped.step_limit == index[f"{stem}.json"]["query_time_limit"]
        assert shipped.initial_state().boxes() == index[f"{stem}.json"]["num_boxes"]


def _scenario_task(s: dict) -> tuple[GridTask, GridState]:
    cls = GridEasy if s["difficulty"] == "easy" else GridHard
    task = cls.from_state_dict(s["rows"], s["cols"], s["initial_state"], step_limit=s["query_time_limit"])
    return task, task.initial_state()


def _replay(task: GridTask, state: GridState, responses: list[str], checked: bool = True) -> tuple[list[dict], Any]:
    boards, out = [task.state_dict(state)], None
    for text in responses:
        plan = task.parse_plan(text)
        assert isinstance(plan, Plan) and not (checked and task.validate_plan(state, plan))
        out = task.step(state, plan.as_dict())
        state = out.state
        boards.append(task.state_dict(state))
    return boards, out


def _replans(s: dict, kind: str) -> list[str]:
    return [c["last_user_message"] for c in s["llm_calls"] if c["kind"] == kind]


def check_scenario(s: dict) -> tuple[str, list[str]]:
    task, state = _scenario_task(s)
    script, result = s["llm_script"], s["result"]
    problems: list[str] = []
    expect = lambda ok, what: ok or problems.append(what)  # noqa: E731
    first = task.parse_plan(script["judge"][0])
    name = s["scenario"]
    if result.get("exception") or name == "no_json_reuses_previous_plan":
        # run_exp bugs (no plan -> crash or silent re-use; json.loads of "Syntactic Error"): the
        # task's part is a typed error where run_exp had none.
        bad = [task.parse_plan(r) for r in script["judge"] if "{" not in r]
        if bad:
            expect(all(getattr(b, "kind", None) == PlanErrorKind.NOT_JSON for b in bad), "no plan -> not_json")
        for reply in script.get("syntactic_feedback_replan", []):
            plan = task.parse_plan(reply)
            errs = task.validate_plan(state, plan) if isinstance(plan, Plan) else ()
            expect(syntax_feedback_text(errs) in _replans(s, "syntactic_feedback_replan"), "replan feedback")
        if name == "no_json_reuses_previous_plan":
            boards, out = _replay(task, state, result["response_total_list"], checked=False)
            expect(boards == result["pg_state_list"], "boards of the re-used plan")
            expect(out.done and out.failure == "step_limit", "step limit outcome")
        return "deviation", problems
    if "syntactic_feedback_replan" in script:  # the syntax check's verdict and text are the task's
        assert isinstance(first, Plan)
        expect(syntax_feedback_text(task.validate_plan(state, first)) == _replans(s, "syntactic_feedback_replan")[0],
               "syntax feedback text")
        if name == "collision_plan_blocked_by_check":
            out = task.step(state, first.as_dict())
            expect(out.failure == "collision" and out.state.places == state.places, "executed -> Collision")
    if "local_feedback_replan" in script:  # the rule gate decided who objects, and how
        agent = first.agents[0]
        verdict = task.rule_gate(state, first, agent)
        message = _replans(s, "local_feedback_replan")[0]
        kinds = [c["kind"] for c in s["llm_calls"]]
        asked = "actor" in kinds[: kinds.index("local_feedback_replan")]
        if asked:  # the authors' gate sent this line to the actor's LLM
            expect(isinstance(verdict, Suspicious), "rule gate asks the actor")
        else:
            expect(isinstance(verdict, DirectFeedback) and message.startswith(f"{agent}: {verdict.text}\n"),
                   "direct feedback text")
    if result["success_failure"] in ("success", "failure over query time limit"):
        boards, out = _replay(task, state, result["response_total_list"])
        expect(boards == result["pg_state_list"], "boards")
        expect(out.state.t - 1 == result["index_query_times"], "index_query_times")
        expect(out.done and out.success == (result["success_failure"] == "success"), "outcome")
    return "matched", problems


def test_run_exp_scenarios(golden: Path) -> None:
    data = json.loads((golden / "episodes" / "run_exp_scenarios.json").read_text())
    failures = []
    for s in data["easy"] + data["hard"]:
        verdict, problems = check_scenario(s)
        if problems:
            failures.append(f"{s['difficulty']} {s['scenario']}: {problems}")
        else:
            TALLY[f"episodes_{'matched' if verdict == 'matched' else 'deviations'}"] += 1
    assert not failures, "\n".join(failures)


def test_authors_prompt_examples(golden: Path) -> None:
    """The doable text and the rule-gate decisions in golden/prompts (the authors' own outputs)."""
    easy = json.loads((golden / "prompts" / "easy_example.json").read_text())
    task = GridEasy.from_state_dict(easy["rows"], easy["cols"], easy["state"])
    state = task.initial_state()
    assert task.authors_doable_text(state) == easy["central"]["state_update_prompt"]
    actor = easy["actor"]
    plan = Plan(tuple(actor["central_plan_for_agent"].items()))
    assert actor["get_actor_feedback_or_not"] is True
    assert isinstance(task.rule_gate(state, plan, actor["agent"]), Suspicious)

    hard = json.loads((golden / "prompts" / "hard_example.json").read_text())
    task_h = GridHard.from_state_dict(hard["rows"], hard["cols"], hard["state"])
    state_h = task_h.initial_state()
    assert task_h.authors_doable_text(state_h) == hard["central"]["state_update_prompt"]
    actor = hard["actor"]
    verdict = task_h.rule_gate(state_h, Plan(tuple(actor["central_plan_for_agent"].items())), actor["agent"])
    assert actor["get_actor_feedback_or_not"]["actor_feedback"] and isinstance(verdict, Suspicious)
    direct = hard["actor_direct_feedback_example"]
    verdict = task_h.rule_gate(state_h, Plan(tuple(direct["central_plan_for_agent"].items())), direct["agent"])
    assert isinstance(verdict, DirectFeedback) and verdict.text == direct["get_actor_feedback_or_not"][4]
