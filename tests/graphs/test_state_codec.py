"""Task states survive the checkpointer exactly: tuples stay tuples, odd keys and arrays keep their type; the
serializer is the episode checkpointer's ``serde`` and refuses classes outside its allowed packages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphs.state_codec import ALLOWED_PACKAGES, TREE, StateCodecError, TaskStateSerializer, decode, encode
from tasks.base import Outcome, PlanError, PlanErrorKind
from tests.checkpointing import TEST_PACKAGES
from tests.graphs.line_walk import WalkState

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.tuples(inner, inner)
    | st.frozensets(st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    | st.dictionaries(st.tuples(st.integers(), st.integers()), inner, max_size=3),
    max_leaves=12,
)


@given(values)
def test_any_plain_value_round_trips_with_its_types(value):
    back = decode(encode(value))
    assert back == value
    assert type(back) is type(value)


def test_frozen_dataclass_state_round_trips_hashable():
    state = WalkState(positions=(1, 2, 3), t=4)
    back = decode(encode(state, TEST_PACKAGES), TEST_PACKAGES)
    assert back == state and hash(back) == hash(state)
    assert isinstance(back.positions, tuple)


def test_outcome_with_nested_state_and_enum_round_trips():
    outcome = Outcome(state=WalkState((0,)), rewards={"a": 1.0}, done=True, success=False,
                      failure="collision", feedback=("x",), info={"n": 2.0})
    assert decode(encode(outcome, TEST_PACKAGES), TEST_PACKAGES) == outcome
    err = PlanError(PlanErrorKind.CONFLICT, "two agents", "Agent[0]")
    assert decode(encode(err)) == err


def test_numpy_array_keeps_dtype_and_shape():
    arr = np.arange(6, dtype=np.int8).reshape(2, 3)
    back = decode(encode({"a": arr, "s": np.float32(1.5)}))
    assert back["a"].dtype == np.int8 and back["a"].shape == (2, 3) and (back["a"] == arr).all()
    assert back["s"].dtype == np.float32


def test_checkpoint_cannot_name_a_class_outside_the_tasks():
    with pytest.raises(StateCodecError):
        decode('{"__dc__": "os:system", "fields": {}}')
    assert "tests" not in ALLOWED_PACKAGES  # the product rebuilds the product's classes only
    with pytest.raises(StateCodecError):  # a test's task state is refused without the tests' own list
        decode(encode(WalkState((1,)), TEST_PACKAGES))


def test_the_serializer_keeps_task_values_typed_and_passes_langgraphs_own_through():
    serde = TaskStateSerializer()
    from tasks.catalog import grid_task

    task = grid_task("2x2", "hard", instance=1)
    state = task.initial_state()
    kind, data = serde.dumps_typed({"state": state, "n": (1, 2)})
    assert kind == TREE and serde.loads_typed((kind, data)) == {"state": state, "n": (1, 2)}
    assert hash(serde.loads_typed(serde.dumps_typed(state))) == hash(state)
    from langgraph.types import Send

    send = Send("node", {"x": 1})
    kind, data = serde.dumps_typed(send)  # not ours: LangGraph's own serializer
    assert kind != TREE and serde.loads_typed((kind, data)) == send


async def test_an_episode_state_in_a_real_checkpointer_is_the_tasks_own_value(tmp_path):
    from graphs.episode import EpisodeContext, play_episode
    from tasks.catalog import greedy_coordinator, grid_task
    from tests.checkpointing import sqlite_saver

    task = grid_task("2x2", "easy", instance=2)
    async with sqlite_saver(str(tmp_path / "c.sqlite")) as saver:
        ctx = EpisodeContext(task=task, coordinator=greedy_coordinator(task))
        summary = await play_episode(ctx, checkpointer=saver, thread_id="t")
        latest = await saver.aget_tuple({"configurable": {"thread_id": "t"}})
    values = latest.checkpoint["channel_values"]
    assert summary["success"] and values["initial"] == task.initial_state()
    assert isinstance(values["state"], type(task.initial_state())) and isinstance(values["state"].places, tuple)
    assert all(type(o).__name__ == "Outcome" for o in values["outcomes"])


@pytest.mark.parametrize(
    "make",
    [
        lambda c: c.grid_task("2x2", "easy", instance=1),
        lambda c: c.grid_task("2x4", "hard", instance=2),
        lambda c: c.alloc_task(5, seed=3),
        lambda c: c.matrix_task("penalty", k=-100),
        lambda c: c.matrix_task("coordination"),
    ],
)
async def test_every_task_familys_states_and_outcomes_round_trip(make):
    from tasks import catalog

    task = make(catalog)
    coordinator = catalog.greedy_coordinator(task)
    state = task.initial_state()
    assert decode(encode(state)) == state
    history: list = []
    for _ in range(3):
        decision = await coordinator.decide(task, state, history)
        outcome = task.step(state, decision.joint_action)
        assert decode(encode(outcome)) == outcome
        state = outcome.state
        if outcome.done:
            break
