"""Task states survive the checkpointer exactly: tuples stay tuples, odd keys and arrays keep their type."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphs.state_codec import StateCodecError, decode, encode
from tasks.base import Outcome, PlanError, PlanErrorKind
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
    back = decode(encode(state))
    assert back == state and hash(back) == hash(state)
    assert isinstance(back.positions, tuple)


def test_outcome_with_nested_state_and_enum_round_trips():
    outcome = Outcome(state=WalkState((0,)), rewards={"a": 1.0}, done=True, success=False,
                      failure="collision", feedback=("x",), info={"n": 2.0})
    assert decode(encode(outcome)) == outcome
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
    history = []
    for _ in range(3):
        decision = await coordinator.decide(task, state, history)
        outcome = task.step(state, decision.joint_action)
        assert decode(encode(outcome)) == outcome
        state = outcome.state
        if outcome.done:
            break
