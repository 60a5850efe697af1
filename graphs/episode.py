"""The one episode loop every coordinator runs in.

::

    observe -> decide -> execute -> remember -> (done? finish : observe)
                  \\__ end_reason __________/^

``decide`` asks whatever coordinator the CLI handed over (LLaMAC, HMAS-2, greedy, a STEER policy, a
student) through ``tasks.coordinator.Coordinator``; everything else -- stepping the task, memory,
counters, the step lines, the summary, checkpointing -- is the same for all of them, so their
results compare like for like.

Durable runs are LangGraph's: the graph state (the task's own state value, outcomes, the pending
decision, counters) is checkpointed after every node, so ``resume`` only re-invokes the graph on its
thread; the checkpointer's serializer (``graphs.state_codec.TaskStateSerializer``) stores the typed values
exactly. The long-term memory the prompts read is the memory store (in process, or Redis with
``REDIS_URL`` so other processes share it), appended by ``remember`` and read by ``decide``; on resume it
is brought to the checkpoint's step. The task, coordinator, store and run files are not state: they
travel in the run *context*, rebuilt by the CLI from config.json.
"""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from graphs.state_codec import TaskStateSerializer, typed
from llamac.runtime.counters import SUMMARY_FIELDS, add_counters
from llamac.runtime.memory import InProcessMemory, MemoryStore
from llamac.runtime.stops import RESUMABLE_END_REASONS
from tasks.base import Outcome, Task
from tasks.coordinator import Coordinator, Decision, StepMemory


class EpisodeState(TypedDict, total=False):
    """What the checkpointer stores: enough to continue the episode, with the memory store."""

    t: int  # environment steps executed so far
    state: Any  # the task's current state value
    initial: Any  # the episode's first task state (the others are in the outcomes)
    outcomes: Annotated[list[Outcome], operator.add]  # one per executed step
    decision: Decision | None  # the pending decision
    counters: Annotated[dict[str, float], add_counters]  # summed Decision.counters
    wall_s: Annotated[float, operator.add]  # time spent inside nodes (not downtime between resumes)
    done: bool
    success: bool
    end_reason: str | None  # success | a task failure | max_steps | a Decision.end_reason
    summary: dict[str, Any] | None  # set once, by finish


class EpisodeRecord(Protocol):
    """Where an episode's step lines and summary are written (the app's run folder: ``EpisodeFiles``)."""

    def append_step(self, line: Mapping[str, Any]) -> None: ...
    def read_steps(self) -> list[dict[str, Any]]: ...
    def keep_steps_before(self, t: int) -> None: ...
    def write_summary(self, summary: Mapping[str, Any]) -> None: ...

    @property
    def steps(self) -> Any: ...


class ResumeRefused(ValueError):
    """Continuing the episode would replay or forget recorded steps (one line for the user, exit 2)."""


@dataclass(frozen=True)
class StepReport:
    """What the progress display hears after every step."""

    episode: int
    t: int
    step_limit: int
    counters: Mapping[str, float]
    done: bool
    success: bool
    end_reason: str | None
    line: Mapping[str, Any] = field(default_factory=dict)
    """The step's line as the steps file records it (the executed plan, notes such as applied fixes)."""


@dataclass
class EpisodeContext:
    """Per-run objects the nodes use but the checkpointer must not store."""

    task: Task
    coordinator: Coordinator
    episode: int = 0
    files: EpisodeRecord | None = None
    memory: MemoryStore = field(default_factory=lambda: InProcessMemory("episode"))
    """The long-term memory the coordinator reads (the run's store: Redis with REDIS_URL)."""
    max_steps: int | None = None
    on_step: Callable[[StepReport], None] | None = None

    @property
    def step_limit(self) -> int:
        limit = self.task.step_limit
        return min(limit, self.max_steps) if self.max_steps else limit


Ctx = Runtime[EpisodeContext]
RECURSION_FLOOR = 1000


# ------------------------------------------------------------------------------------------ nodes
async def observe(state: EpisodeState, runtime: Ctx) -> dict[str, Any]:
    """Stop before deciding when the step budget is used up (a task without its own limit, --max-steps)."""
    started = time.perf_counter()
    if state["t"] >= runtime.context.step_limit:
        return {"done": True, "end_reason": "max_steps", "wall_s": time.perf_counter() - started}
    return {"decision": None, "wall_s": time.perf_counter() - started}


async def decide(state: EpisodeState, runtime: Ctx) -> dict[str, Any]:
    """Ask the coordinator, with the history the memory store holds; its counters are booked here, where
    the tokens were spent."""
    started = time.perf_counter()
    ctx = runtime.context
    history = await ctx.memory.all_steps()
    decision = await ctx.coordinator.decide(ctx.task, typed(state["state"]), history)
    plain = Decision(
        joint_action=dict(decision.joint_action),
        counters=dict(decision.counters),
        end_reason=decision.end_reason,
        # what the coordinator wants on record (plan text, objections, ...), as plain JSON
        notes=json.loads(json.dumps(dict(decision.notes), default=str)),
    )
    return {"decision": plain, "counters": dict(decision.counters), "wall_s": time.perf_counter() - started}


async def execute(state: EpisodeState, runtime: Ctx) -> dict[str, Any]:
    """Apply the joint action to the task; the task decides legality, feedback and termination."""
    started = time.perf_counter()
    ctx = runtime.context
    decision: Decision = typed(state["decision"])
    outcome = ctx.task.step(typed(state["state"]), decision.joint_action)
    return {"outcomes": [outcome], "wall_s": time.perf_counter() - started}


async def remember(state: EpisodeState, runtime: Ctx) -> dict[str, Any]:
    """Record the step: the memory store, the step line, progress; advance t."""
    started = time.perf_counter()
    ctx = runtime.context
    t = state["t"]
    decision: Decision = typed(state["decision"])
    line: dict[str, Any] = {
        "episode": ctx.episode,
        "t": t,
        "joint_action": dict(decision.joint_action),
        "counters": dict(decision.counters),
    }
    if decision.notes:
        line["notes"] = dict(decision.notes)
    update: dict[str, Any] = {}
    if decision.end_reason is not None:
        line.update(executed=False, done=True, success=False, end_reason=decision.end_reason)
        update.update(done=True, success=False, end_reason=decision.end_reason)
    else:
        outcome: Outcome = typed(state["outcomes"][-1])
        before = typed(state["state"])
        item = StepMemory(
            t=t,
            state_text=ctx.task.state_text(before),
            plan=dict(decision.joint_action),
            rewards=dict(outcome.rewards),
            feedback=tuple(outcome.feedback),
        )
        done, reason = outcome.done, None
        if outcome.done:
            reason = "success" if outcome.success else (outcome.failure or "failure")
        elif t + 1 >= ctx.step_limit:
            done, reason = True, ("max_steps" if ctx.step_limit < ctx.task.step_limit else "step_limit")
        line.update(
            executed=True,
            rewards=dict(outcome.rewards),
            feedback=list(outcome.feedback),
            info=dict(outcome.info),
            done=done,
            success=bool(outcome.success),
            end_reason=reason,
            state_text=ctx.task.state_text(outcome.state),
        )
        update.update(t=t + 1, state=outcome.state, done=done, success=bool(outcome.success), end_reason=reason)
        # A store that went away (Redis down) fails this node: the run stops naming it, and resume runs
        # remember again from its checkpoint, nothing spent twice.
        await ctx.memory.append_step(item)
    if ctx.files is not None:
        ctx.files.append_step(line)
    if ctx.on_step is not None:
        counters = dict(state.get("counters", {}))
        ctx.on_step(
            StepReport(ctx.episode, update.get("t", t), ctx.step_limit, counters, update["done"],
                       update.get("success", False), update.get("end_reason"), line)
        )
    update["wall_s"] = time.perf_counter() - started
    return update


async def finish(state: EpisodeState, runtime: Ctx) -> dict[str, Any]:
    """Write the episode summary (also for stopped episodes: partial results are results)."""
    ctx = runtime.context
    outcomes = [typed(x) for x in state.get("outcomes", [])]
    summary = episode_summary(
        ctx,
        states=[typed(state["initial"])] + [o.state for o in outcomes],
        outcomes=outcomes,
        counters=state.get("counters", {}),
        wall_s=state.get("wall_s", 0.0),
        success=bool(state.get("success")),
        end_reason=state.get("end_reason"),
        steps=state["t"],
    )
    if ctx.files is not None:
        ctx.files.write_summary(summary)
    return {"summary": summary}


def episode_summary(
    ctx: EpisodeContext,
    *,
    states: Sequence[Any],
    outcomes: Sequence[Outcome],
    counters: Mapping[str, float],
    wall_s: float,
    success: bool,
    end_reason: str | None,
    steps: int,
) -> dict[str, Any]:
    """The metrics of one episode plus the task's own."""
    c = {k: float(v) for k, v in counters.items()}
    summary: dict[str, Any] = {
        "episode": ctx.episode,
        "task": ctx.task.name,
        "family": ctx.task.family,
        "coordinator": ctx.coordinator.name,
        "success": success,
        "steps": steps,
        "end_reason": end_reason,
        "tokens": c.get("prompt_tokens", 0.0) + c.get("completion_tokens", 0.0),
        **{name: c.get(name, 0.0) for name in SUMMARY_FIELDS},
        "wall_s": round(wall_s, 6),
        "counters": c,
        "initial_state_text": ctx.task.state_text(states[0]) if states else None,
    }
    summary["task_metrics"] = dict(ctx.task.episode_metrics(list(states), list(outcomes)))
    return summary


# ------------------------------------------------------------------------------------------ edges
def after_observe(state: EpisodeState) -> Literal["decide", "finish"]:
    return "finish" if state.get("done") else "decide"


def after_decide(state: EpisodeState) -> Literal["execute", "remember"]:
    return "remember" if typed(state["decision"]).end_reason is not None else "execute"


def after_remember(state: EpisodeState) -> Literal["observe", "finish"]:
    return "finish" if state.get("done") else "observe"


def build_episode_graph() -> StateGraph:
    """The graph is the diagram: compile it with a checkpointer and run it with an EpisodeContext."""
    g = StateGraph(EpisodeState, context_schema=EpisodeContext)
    g.add_node("observe", observe)
    g.add_node("decide", decide)
    g.add_node("execute", execute)
    g.add_node("remember", remember)
    g.add_node("finish", finish)
    g.add_edge(START, "observe")
    g.add_conditional_edges("observe", after_observe)  # step budget left? decide : finish
    g.add_conditional_edges("decide", after_decide)  # a coordinator's end_reason skips execution
    g.add_edge("execute", "remember")  # every executed step is remembered
    g.add_conditional_edges("remember", after_remember)  # done? finish : next step
    g.add_edge("finish", END)
    return g


def initial_input(task: Task) -> EpisodeState:
    first = task.initial_state()
    return EpisodeState(
        t=0, state=first, initial=first, outcomes=[], decision=None,
        counters={}, wall_s=0.0, done=False, success=False, end_reason=None, summary=None,
    )


async def play_episode(
    ctx: EpisodeContext, *, checkpointer: BaseCheckpointSaver, thread_id: str
) -> dict[str, Any]:
    """Run, or continue, the episode on ``thread_id``; returns its summary.

    A finished thread returns its stored summary without running; an interrupted one continues from
    its last checkpoint (the node that failed runs again), after cutting the steps file back to
    the checkpointed step so no line is written twice.
    """
    if not isinstance(checkpointer.serde, TaskStateSerializer):
        raise TypeError("the episode checkpointer needs serde=graphs.state_codec.TaskStateSerializer(): LangGraph's "
                        "default turns the task's tuples into lists")
    graph = build_episode_graph().compile(checkpointer=checkpointer)
    # The limit is inherited by a coordinator's own graph run inside ``decide`` (re-plan and objection
    # loops); the episode itself is bounded by its step limit, so the cap only has to stay out of the way.
    config = {"configurable": {"thread_id": thread_id}, "recursion_limit": max(RECURSION_FLOOR, 4 * ctx.step_limit + 10)}
    snapshot = await graph.aget_state(config)
    values = snapshot.values or {}
    summary = values.get("summary")
    if summary and summary.get("end_reason") not in RESUMABLE_END_REASONS:
        return summary
    if summary:  # a provider or Redis failure stopped a decision: ask it again, from just before it
        config = await _before_stopped_decision(graph, config)
        values = (await graph.aget_state(config)).values
    _check_checkpoint_covers_steps(ctx, values)
    t = values["t"] if values else 0
    if ctx.files is not None:
        ctx.files.keep_steps_before(t)
    await _memory_up_to(ctx, t, values)
    result = await graph.ainvoke(None if values else initial_input(ctx.task), config, context=ctx, durability="sync")
    return result["summary"]


def _check_checkpoint_covers_steps(ctx: EpisodeContext, values: dict[str, Any]) -> None:
    """Refuse to replay steps the steps file says were played but the checkpoint does not hold: a deleted
    checkpoint file, or one copied without its ``-wal`` file, would otherwise spend their tokens again and
    cut the recorded steps. (The file may be one step ahead: a step line is written just before its
    checkpoint is stored.)"""
    if ctx.files is None:
        return
    played = [line["t"] for line in ctx.files.read_steps() if line.get("executed")]
    checkpointed = values.get("t", 0) if values else 0
    if played and max(played) > checkpointed:
        where = "holds no state for" if not values else f"stops at step {checkpointed} of"
        raise ResumeRefused(
            f"the checkpoint {where} episode {ctx.episode}, but {ctx.files.steps} records {max(played) + 1} "
            "steps: was the checkpoint file deleted, or copied without its -wal file? Restore it, or start a "
            "new run; nothing was replayed")


async def _before_stopped_decision(graph: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint where the stopped decision was about to be asked (LangGraph's time travel: invoking
    from it continues on a new branch of the same thread, so the stop stays in the history)."""
    async for snapshot in graph.aget_state_history(config):
        if snapshot.next == ("decide",):
            return {**snapshot.config, "recursion_limit": config["recursion_limit"]}
    raise RuntimeError(f"thread {config['configurable']['thread_id']} has no checkpoint before its stopped decision")


async def _memory_up_to(ctx: EpisodeContext, t: int, values: dict[str, Any]) -> None:
    """Bring the memory store to the steps before ``t`` (where the episode continues): a shared store
    (Redis) that holds them is used as it is; otherwise, or when it holds other steps (a process that
    died between writing memory and its checkpoint, Redis restarted), it is rebuilt from the run's own
    record of those steps."""
    stored = await ctx.memory.all_steps()
    if [m.t for m in stored] == list(range(t)):
        return
    await ctx.memory.clear()
    for item in recorded_history(ctx, t, values):
        await ctx.memory.append_step(item)


def recorded_history(ctx: EpisodeContext, t: int, values: dict[str, Any]) -> list[StepMemory]:
    """The steps before ``t`` as memory holds them, from the checkpoint of a run folder written before the
    memory store was the prompts' source (its ``history``), else from the steps file."""
    if values.get("history"):
        return [typed(x) for x in values["history"]][:t]
    lines = [line for line in ctx.files.read_steps() if line.get("executed") and line["t"] < t] if ctx.files else []
    before = ctx.task.state_text(ctx.task.initial_state())
    history = []
    for line in sorted(lines, key=lambda x: x["t"]):
        history.append(StepMemory(t=line["t"], state_text=before, plan=dict(line["joint_action"]),
                                  rewards={k: float(v) for k, v in line["rewards"].items()},
                                  feedback=tuple(line["feedback"])))
        before = line["state_text"]
    if [m.t for m in history] != list(range(t)):
        raise ResumeRefused(f"episode {ctx.episode} continues at step {t}, but the memory of the steps before it "
                             "is neither in the memory store nor in the steps file (a shared store: set REDIS_URL as "
                             "the run had it)")
    return history
