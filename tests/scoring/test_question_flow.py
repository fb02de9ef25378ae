"""Which question comes next and the "question N of M" counter, for every instrument."""

from __future__ import annotations

import pytest
from scoring_helpers import all_paths, answer_sequence, instrument, spread_total

from bot.scoring import (
    ItemState,
    applicable_answers,
    is_complete,
    item_states,
    missing_items,
    next_item,
    progress,
)


def next_id(instrument_id: str, answers: dict[str, str]) -> str | None:
    item = next_item(instrument(instrument_id), answers)
    return None if item is None else item.id


# --- summed instruments: linear -----------------------------------------------------------


@pytest.mark.parametrize(("instrument_id", "count"), [("phq9", 9), ("gad7", 7), ("phq2", 2)])
def test_linear_instruments_ask_every_item_in_order(instrument_id: str, count: int) -> None:
    inst = instrument(instrument_id)
    answers = spread_total(inst, count)
    steps = answer_sequence(answers)
    for position, partial in enumerate(steps[:-1], start=1):
        assert progress(inst, partial) == (position, count)
        assert next_id(instrument_id, partial) == f"{instrument_id}_{position}"
    assert next_item(inst, steps[-1]) is None
    assert is_complete(inst, steps[-1])
    assert progress(inst, steps[-1]) == (count + 1, count)


def test_gate_answers_carried_into_phq9_continue_at_item_3() -> None:
    carried = {"phq9_1": "2", "phq9_2": "1"}
    assert next_id("phq9", carried) == "phq9_3"
    assert progress(instrument("phq9"), carried) == (3, 9)


def test_an_answer_out_of_order_does_not_skip_earlier_questions() -> None:
    answers = {"phq9_5": "1"}
    assert next_id("phq9", answers) == "phq9_1"
    assert progress(instrument("phq9"), answers) == (1, 9)
    assert missing_items(instrument("phq9"), answers) == [
        f"phq9_{i}" for i in range(1, 10) if i != 5
    ]


def test_invalid_answers_are_rejected() -> None:
    with pytest.raises(ValueError, match="not an option"):
        next_item(instrument("phq9"), {"phq9_1": "yes"})
    with pytest.raises(ValueError, match="no item"):
        progress(instrument("phq9"), {"phq9_10": "0"})


# --- ASQ: question 5 only after a yes or a refusal ------------------------------------------

ASQ_SCREEN = ["asq_1", "asq_2", "asq_3", "asq_4"]


def test_asq_starts_with_four_questions() -> None:
    assert progress(instrument("asq"), {}) == (1, 4)
    assert next_id("asq", {}) == "asq_1"


def test_asq_all_no_ends_without_the_acuity_question() -> None:
    answers = dict.fromkeys(ASQ_SCREEN, "no")
    assert next_item(instrument("asq"), answers) is None
    assert item_states(instrument("asq"), answers)["asq_5"] is ItemState.SKIPPED
    assert progress(instrument("asq"), answers) == (5, 4)


@pytest.mark.parametrize("item_id", ASQ_SCREEN)
@pytest.mark.parametrize("code", ["yes", "decline"])
def test_asq_yes_or_refusal_leads_to_the_acuity_question(item_id: str, code: str) -> None:
    answers = dict.fromkeys(ASQ_SCREEN, "no") | {item_id: code}
    assert next_id("asq", answers) == "asq_5"
    assert progress(instrument("asq"), answers) == (5, 5)


def test_asq_acuity_question_is_undetermined_until_the_screen_is_done() -> None:
    states = item_states(instrument("asq"), {"asq_1": "no"})
    assert states["asq_5"] is ItemState.UNDETERMINED
    states = item_states(instrument("asq"), {"asq_1": "yes"})
    assert states["asq_5"] is ItemState.PENDING
    assert progress(instrument("asq"), {"asq_1": "yes"}) == (2, 5)


# --- C-SSRS: Q2 no skips 3-5; 6b only after 6 yes -----------------------------------------


def test_cssrs_q2_no_goes_straight_to_q6() -> None:
    answers = {"cssrs_1": "yes", "cssrs_2": "no"}
    assert next_id("cssrs", answers) == "cssrs_6"
    states = item_states(instrument("cssrs"), answers)
    assert [states[f"cssrs_{i}"] for i in (3, 4, 5)] == [ItemState.SKIPPED] * 3
    assert progress(instrument("cssrs"), answers) == (3, 3)


def test_cssrs_q2_yes_asks_3_4_5_then_6() -> None:
    answers: dict[str, str] = {"cssrs_1": "no", "cssrs_2": "yes"}
    order = []
    while (item := next_item(instrument("cssrs"), answers)) is not None and len(order) < 4:
        order.append(item.id)
        answers[item.id] = "no"
    assert order == ["cssrs_3", "cssrs_4", "cssrs_5", "cssrs_6"]


@pytest.mark.parametrize(("q6", "follow_up"), [("yes", "cssrs_6b"), ("no", None)])
def test_cssrs_6b_only_after_6_yes(q6: str, follow_up: str | None) -> None:
    answers = {"cssrs_1": "no", "cssrs_2": "no", "cssrs_6": q6}
    assert next_id("cssrs", answers) == follow_up


def test_cssrs_progress_along_the_longest_path() -> None:
    inst = instrument("cssrs")
    answers = {
        "cssrs_1": "yes",
        "cssrs_2": "yes",
        "cssrs_3": "no",
        "cssrs_4": "no",
        "cssrs_5": "no",
        "cssrs_6": "yes",
        "cssrs_6b": "no",
    }
    counts = [progress(inst, partial) for partial in answer_sequence(answers)]
    assert counts == [(1, 3), (2, 3), (3, 6), (4, 6), (5, 6), (6, 6), (7, 7), (8, 7)]


def test_cssrs_answers_to_skipped_questions_are_dropped() -> None:
    answers = {"cssrs_1": "no", "cssrs_2": "no", "cssrs_3": "yes", "cssrs_6": "no"}
    assert applicable_answers(instrument("cssrs"), answers) == {
        "cssrs_1": "no",
        "cssrs_2": "no",
        "cssrs_6": "no",
    }
    assert is_complete(instrument("cssrs"), answers)


# --- properties over every possible path ----------------------------------------------------


@pytest.mark.parametrize("instrument_id", ["asq", "cssrs", "phq2", "gad2"])
def test_position_advances_by_one_and_total_never_shrinks(instrument_id: str) -> None:
    inst = instrument(instrument_id)
    for answers in all_paths(inst):
        steps = answer_sequence(answers)
        previous_total = 0
        for position, partial in enumerate(steps, start=1):
            got_position, total = progress(inst, partial)
            assert got_position == position, partial
            assert total >= previous_total, partial
            assert total <= len(inst.items)
            previous_total = total
        assert progress(inst, answers) == (len(answers) + 1, len(answers))
