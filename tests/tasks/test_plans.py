"""Plan parsing: the JSON object out of an LLM answer, and grid plans with any coordinates."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.base import Plan, PlanError, PlanErrorKind
from tasks.grid_common import COLOURS
from tasks.grid_easy import GridEasy
from tasks.grid_hard import GridHard
from tasks.plans import extract_json_object, numbers, parse_agent_coords, parse_grid_move


@pytest.mark.parametrize("text", [
    '{"Agent[0, 0]": "move(box_red, square[0, 1])"}',
    '```json\n{"Agent[0, 0]": "move(box_red, square[0, 1])"}\n```',
    'Here is my plan:\n```\n{"Agent[0, 0]": "move(box_red, square[0, 1])"}\n```\nThat should work.',
    "Sure! {'Agent[0, 0]': 'move(box_red, square[0, 1])'} I hope that's right.",
    '{"Agent[0, 0]": "move(box_red, square[0, 1])",}',
    '  \n\t{ "Agent[0, 0]" :\n "move(box_red, square[0, 1])" }  ',
])
def test_extract_json_object_tolerates_wrapping(text: str) -> None:
    assert extract_json_object(text) == {"Agent[0, 0]": "move(box_red, square[0, 1])"}


@pytest.mark.parametrize("text", ["", "   ", "no plan here", "[1, 2, 3]", '{"a": ', "{'a': 'b'", '"just a string"'])
def test_extract_json_object_returns_not_json(text: str) -> None:
    result = extract_json_object(text)
    assert isinstance(result, PlanError) and result.kind is PlanErrorKind.NOT_JSON and result.detail


def test_extract_json_object_ignores_braces_inside_strings_and_prose_apostrophes() -> None:
    assert extract_json_object('I don\'t know. {"a": "x}"} and {"b": 1}') == {"a": "x}"}
    assert extract_json_object('{"outer": {"inner": 1}}') == {"outer": {"inner": 1}}


def test_grid_coordinates_are_read_whole() -> None:
    assert parse_agent_coords("Agent[10, 3]") == (10.0, 3.0)
    assert parse_agent_coords("Agent[0.5, 1.5]") == (0.5, 1.5)
    assert parse_agent_coords("agent_0_0") == (0.0, 0.0)
    assert parse_agent_coords("Agent[1]") is None
    assert numbers("square[10,11]") == (10.0, 11.0)
    for text, place in [("move(box_red, square[10,11])", (10.0, 11.0)),
                        ("move(box_red, position(1.0, 2.0))", (1.0, 2.0)),
                        ("move(box_red, position[1, 2])", (1.0, 2.0)),
                        (" move( 'box_red' ,position( 1.0 ,2.0 ) ) ", (1.0, 2.0))]:
        move = parse_grid_move(text)
        assert move is not None and move.item == "box_red" and move.place == place
    assert parse_grid_move("move(box_red, target_red)").target == "target_red"
    assert parse_grid_move("stay") is None and parse_grid_move("move(box_red, position[1.0])") is None


def test_parse_plan_handles_multi_digit_and_decimal_grids() -> None:
    easy = GridEasy.from_seed(10, 12, 0)
    plan = easy.parse_plan('{"Agent[10, 3]": "x", "Agent[9, 11]": "move(box_red,square[9,10])"}')
    assert isinstance(plan, PlanError) and plan.kind is PlanErrorKind.UNKNOWN_AGENT  # rows are 0..9
    plan = easy.parse_plan('{"Agent[9,11]": "move(box_red,square[9,10])", "agent_0_10": "move(box_blue, target_blue)"}')
    assert plan == Plan((("Agent[9, 11]", "move(box_red, square[9, 10])"),
                         ("Agent[0, 10]", "move(box_blue, target_blue)")))
    hard = GridHard.from_seed(2, 4, 0)
    plan = hard.parse_plan('```\n{"Agent[1.5,3.5]": "move(box_red, position[2, 4])",'
                           ' "Agent[0.5, 0.5]": "move(box_blue, square[0.0, 1.0])"}\n```')
    assert plan == Plan((("Agent[1.5, 3.5]", "move(box_red, position(2.0, 4.0))"),
                         ("Agent[0.5, 0.5]", "move(box_blue, position(0.0, 1.0))")))


@pytest.mark.parametrize("text,kind", [
    ("I would move the red box", PlanErrorKind.NOT_JSON),
    ('{"Agent[2, 0]": "move(box_red, square[1, 0])"}', PlanErrorKind.UNKNOWN_AGENT),
    ('{"Agent[0.5, 0.5]": "move(box_red, square[0, 1])"}', PlanErrorKind.UNKNOWN_AGENT),
    ('{"Agent[0, 0]": "push the red box"}', PlanErrorKind.MALFORMED_ACTION),
    ('{"Agent[0, 0]": "move(box_red, square[0.5, 1])"}', PlanErrorKind.MALFORMED_ACTION),
    ('{"Agent[0, 0]": "move(target_red, square[0, 1])"}', PlanErrorKind.MALFORMED_ACTION),
    ('{"Agent[0, 0]": 3}', PlanErrorKind.MALFORMED_ACTION),
    ('{"Agent[0, 0]": "move(box_red, target_red)", "agent_0_0": "move(box_red, target_red)"}',
     PlanErrorKind.CONFLICT),
])
def test_parse_plan_errors_are_typed(text: str, kind: PlanErrorKind) -> None:
    result = GridEasy.from_instance(2, 2, 0).parse_plan(text)
    assert isinstance(result, PlanError) and result.kind is kind
    assert "\n" not in result.message()


def test_parse_plan_idle_values_leave_the_agent_out() -> None:
    plan = GridEasy.from_instance(2, 2, 0).parse_plan(
        '{"plan": {"Agent[0, 0]": "stay", "Agent[0, 1]": null, "Agent[1, 0]": ["move(box_red, square[0, 0])"]}}')
    assert plan == Plan((("Agent[1, 0]", "move(box_red, square[0, 0])"),))


def test_plan_json_schema_is_a_plain_string_map() -> None:
    for task in (GridEasy.from_instance(2, 2, 0), GridHard.from_instance(2, 2, 0)):
        schema = task.plan_json_schema()
        assert schema["type"] == "object" and schema["additionalProperties"] == {"type": "string"}
        assert task.agents[0] in schema["description"]
        json.dumps(schema)


# ---------------------------------------------------------------------------------- round trips
def _decorate(obj: dict[str, str], style: int, quote: str) -> str:
    if quote == "'":
        body = "{" + ", ".join(f"'{k}': '{v}'" for k, v in obj.items()) + "}"
    else:
        body = json.dumps(obj, indent=style % 3 or None)
    if style % 2:
        body = body[:-1].rstrip() + ",}" if obj else body
    wrappers = [body, f"```json\n{body}\n```", f"Plan below.\n{body}\nDone.", f"```\n  {body}  \n```"]
    return wrappers[style % 4]


@st.composite
def easy_plans(draw) -> tuple[GridEasy, Plan]:
    rows, cols = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    task = GridEasy.from_seed(rows, cols, 0)
    agents = draw(st.lists(st.sampled_from(task.agents), unique=True, max_size=6))
    out = []
    for a in agents:
        colour = draw(st.sampled_from(COLOURS))
        if draw(st.booleans()):
            out.append((a, f"move(box_{colour}, target_{colour})"))
        else:
            out.append((a, f"move(box_{colour}, square[{draw(st.integers(0, 20))}, {draw(st.integers(0, 20))}])"))
    return task, Plan(tuple(out))


@settings(max_examples=60, deadline=None)
@given(easy_plans(), st.integers(0, 11), st.sampled_from(['"', "'"]))
def test_easy_plan_round_trips_through_decorated_text(tp: tuple[GridEasy, Plan], style: int, quote: str) -> None:
    task, plan = tp
    assert task.parse_plan(_decorate(plan.as_dict(), style, quote)) == plan


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 11), st.integers(1, 11), st.data(), st.integers(0, 11), st.sampled_from(['"', "'"]))
def test_hard_plan_round_trips_through_decorated_text(rows: int, cols: int, data, style: int, quote: str) -> None:
    task = GridHard.from_seed(rows, cols, 0)
    agents = data.draw(st.lists(st.sampled_from(task.agents), unique=True, max_size=5))
    assignments = []
    for a in agents:
        colour = data.draw(st.sampled_from(COLOURS))
        x, y = data.draw(st.integers(0, rows)), data.draw(st.integers(0, cols))
        assignments.append((a, f"move(box_{colour}, position({float(x)}, {float(y)}))"))
    plan = Plan(tuple(assignments))
    assert task.parse_plan(_decorate(plan.as_dict(), style, quote)) == plan
