"""Scoring against the clinical reference (/work/shared/reference/instruments.md).

Expected bands, cut-offs and rules below are transcribed from the reference, not from the
instrument files, so a wrong file fails here.
"""

from __future__ import annotations

import pytest
from scoring_helpers import all_paths, instrument, spread_total

from bot.instruments.schema import Priority
from bot.scoring import (
    AsqResult,
    CssrsRisk,
    RiskFlag,
    asq_result,
    cssrs_risk,
    score,
)

# (min, max, band) per the reference; "positive"/"referral" per the programme brief:
# PHQ-9 and GAD-7 refer from 10; gates are positive from 3 and never refer by themselves.
REFERENCE_BANDS: dict[str, list[tuple[int, int, str]]] = {
    "phq9": [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately_severe"),
        (20, 27, "severe"),
    ],
    "gad7": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
    "phq2": [(0, 2, "negative"), (3, 6, "positive")],
    "gad2": [(0, 2, "negative"), (3, 6, "positive")],
}
POSITIVE_FROM = {"phq9": 10, "gad7": 10, "phq2": 3, "gad2": 3}
REFERRAL_FROM = {"phq9": 10, "gad7": 10, "phq2": None, "gad2": None}
MAX_TOTAL = {"phq9": 27, "gad7": 21, "phq2": 6, "gad2": 6}


def reference_band(instrument_id: str, total: int) -> str:
    for low, high, name in REFERENCE_BANDS[instrument_id]:
        if low <= total <= high:
            return name
    raise AssertionError(f"total {total} outside the reference range")


def boundary_totals(instrument_id: str) -> list[int]:
    """Both sides of every band boundary, plus the ends of the range."""
    totals: set[int] = set()
    for low, high, _ in REFERENCE_BANDS[instrument_id]:
        totals.update({low, high})
    return sorted(totals)


BOUNDARY_CASES = [
    (instrument_id, total)
    for instrument_id in REFERENCE_BANDS
    for total in boundary_totals(instrument_id)
]


def test_boundary_cases_are_both_sides_of_each_cut() -> None:
    assert boundary_totals("phq9") == [0, 4, 5, 9, 10, 14, 15, 19, 20, 27]
    assert boundary_totals("gad7") == [0, 4, 5, 9, 10, 14, 15, 21]
    assert boundary_totals("phq2") == [0, 2, 3, 6]
    assert boundary_totals("gad2") == [0, 2, 3, 6]


@pytest.mark.parametrize(("instrument_id", "total"), BOUNDARY_CASES)
def test_band_at_every_boundary(instrument_id: str, total: int) -> None:
    inst = instrument(instrument_id)
    result = score(inst, spread_total(inst, total))
    assert result.total == total
    assert result.max_total == MAX_TOTAL[instrument_id]
    assert result.band is not None
    assert result.band.code == reference_band(instrument_id, total)
    assert result.result is None
    assert result.positive is (total >= POSITIVE_FROM[instrument_id])
    referral_from = REFERRAL_FROM[instrument_id]
    if referral_from is not None:
        assert result.band.referral is (total >= referral_from)
    else:
        assert result.band.referral is False


@pytest.mark.parametrize("instrument_id", list(REFERENCE_BANDS))
def test_every_total_has_the_reference_band(instrument_id: str) -> None:
    inst = instrument(instrument_id)
    for total in range(MAX_TOTAL[instrument_id] + 1):
        band = score(inst, spread_total(inst, total)).band
        assert band is not None
        assert band.code == reference_band(instrument_id, total), total


@pytest.mark.parametrize("instrument_id", list(REFERENCE_BANDS))
def test_band_limits_match_the_reference(instrument_id: str) -> None:
    bands = [(b.min, b.max, b.code) for b in instrument(instrument_id).bands]
    assert sorted(bands) == REFERENCE_BANDS[instrument_id]


@pytest.mark.parametrize("instrument_id", ["phq2", "gad2"])
@pytest.mark.parametrize("total", range(7))
def test_gates_never_flag_or_refer(instrument_id: str, total: int) -> None:
    inst = instrument(instrument_id)
    result = score(inst, spread_total(inst, total))
    assert result.flags == ()
    assert result.referral is False
    assert result.highest_priority is None


# --- PHQ-9 item 9: any score of 1 or more escalates, whatever the total -------------------


def flag_names(flags: tuple[RiskFlag, ...]) -> list[str]:
    return [f.flag for f in flags]


@pytest.mark.parametrize(("item9", "total"), [("1", 1), ("1", 9), ("2", 2), ("3", 3), ("3", 27)])
def test_phq9_item9_flags_whatever_the_total(item9: str, total: int) -> None:
    inst = instrument("phq9")
    result = score(inst, spread_total(inst, total, {"phq9_9": item9}))
    item9_flags = [f for f in result.flags if f.flag == "suicidal_ideation"]
    assert len(item9_flags) == 1
    assert item9_flags[0].priority is Priority.HIGH
    assert item9_flags[0].items == ("phq9_9",)
    assert result.referral is True
    assert result.highest_priority is Priority.HIGH


def test_phq9_item9_at_one_with_total_one_is_minimal_but_flagged() -> None:
    inst = instrument("phq9")
    result = score(inst, spread_total(inst, 1, {"phq9_9": "1"}))
    assert result.band is not None and result.band.code == "minimal"
    assert result.positive is False
    assert flag_names(result.flags) == ["suicidal_ideation"]
    assert result.referral is True


@pytest.mark.parametrize("total", [0, 9, 24])
def test_phq9_item9_at_zero_does_not_flag(total: int) -> None:
    inst = instrument("phq9")
    result = score(inst, spread_total(inst, total, {"phq9_9": "0"}))
    assert "suicidal_ideation" not in flag_names(result.flags)


# --- PHQ-9 severe total (programme choice): >= 20 -> moderate ------------------------------


@pytest.mark.parametrize(("total", "fires"), [(19, False), (20, True), (24, True)])
def test_phq9_severe_total_rule(total: int, fires: bool) -> None:
    inst = instrument("phq9")
    result = score(inst, spread_total(inst, total, {"phq9_9": "0"}))
    severe = [f for f in result.flags if f.flag == "severe_depression"]
    assert bool(severe) is fires
    if fires:
        assert severe[0].priority is Priority.MODERATE
        assert result.highest_priority is Priority.MODERATE
        assert "phq9_9" not in severe[0].items
    else:
        assert result.flags == ()


def test_phq9_flags_are_ordered_most_urgent_first() -> None:
    inst = instrument("phq9")
    result = score(inst, spread_total(inst, 27))
    assert flag_names(result.flags) == ["suicidal_ideation", "severe_depression"]
    assert [f.priority for f in result.flags] == [Priority.HIGH, Priority.MODERATE]
    assert result.highest_priority is Priority.HIGH
    assert result.flags[0].as_dict()["priority"] == "high"


# --- GAD-7 severe total (programme choice): >= 15 -> routine --------------------------------


@pytest.mark.parametrize(("total", "fires"), [(0, False), (14, False), (15, True), (21, True)])
def test_gad7_severe_total_rule(total: int, fires: bool) -> None:
    inst = instrument("gad7")
    result = score(inst, spread_total(inst, total))
    assert flag_names(result.flags) == (["severe_anxiety"] if fires else [])
    if fires:
        assert result.flags[0].priority is Priority.ROUTINE
        assert len(result.flags[0].items) > 0


# --- ASQ ----------------------------------------------------------------------------------

ASQ_SCREEN = ["asq_1", "asq_2", "asq_3", "asq_4"]


def reference_asq(answers: dict[str, str]) -> str:
    """Reference section 4: yes OR a refusal on any of 1-4 is positive; then Q5 decides."""
    if not any(answers[i] in ("yes", "decline") for i in ASQ_SCREEN):
        return "negative"
    # NIMH: a refusal on the acuity question is treated as acute (care.md section 1).
    return "acute_positive" if answers["asq_5"] in ("yes", "decline") else "non_acute_positive"


ASQ_PRIORITY = {
    "negative": None,
    "non_acute_positive": (Priority.HIGH, "suicide_risk"),
    "acute_positive": (Priority.IMMINENT, "suicide_risk_imminent"),
}


def test_asq_every_path_matches_the_reference() -> None:
    inst = instrument("asq")
    seen: set[str] = set()
    paths = list(all_paths(inst))
    assert len(paths) == 1 + (3**4 - 1) * 3  # all-no, or positive then yes/no/refusal on Q5
    for answers in paths:
        expected = reference_asq(answers)
        seen.add(expected)
        result = score(inst, answers)
        assert result.result is not None and result.result.code == expected, answers
        assert asq_result(inst, answers) is AsqResult(expected)
        assert result.total is None and result.band is None
        assert result.positive is (expected != "negative")
        assert result.referral is (expected != "negative")
        want = ASQ_PRIORITY[expected]
        if want is None:
            assert result.flags == ()
        else:
            assert [(f.priority, f.flag) for f in result.flags] == [want]
    assert seen == {"negative", "non_acute_positive", "acute_positive"}


@pytest.mark.parametrize("item_id", ASQ_SCREEN)
def test_asq_a_refusal_alone_counts_as_positive(item_id: str) -> None:
    inst = instrument("asq")
    answers = {i: "no" for i in ASQ_SCREEN} | {item_id: "decline", "asq_5": "no"}
    result = score(inst, answers)
    assert asq_result(inst, answers) is AsqResult.NON_ACUTE_POSITIVE
    assert result.flags[0].items == (item_id,)


def test_asq_positive_without_the_acuity_answer_is_incomplete() -> None:
    inst = instrument("asq")
    with pytest.raises(ValueError, match="asq_5"):
        score(inst, {i: "no" for i in ASQ_SCREEN} | {"asq_3": "yes"})


def test_asq_acuity_answer_is_ignored_when_the_screen_is_negative() -> None:
    inst = instrument("asq")
    answers = {i: "no" for i in ASQ_SCREEN} | {"asq_5": "yes"}
    assert asq_result(inst, answers) is AsqResult.NEGATIVE
    assert score(inst, answers).flags == ()


def test_asq_acute_flag_names_the_items_that_fired() -> None:
    inst = instrument("asq")
    answers = {"asq_1": "yes", "asq_2": "no", "asq_3": "decline", "asq_4": "no", "asq_5": "yes"}
    result = score(inst, answers)
    assert result.highest_priority is Priority.IMMINENT
    assert result.flags[0].items == ("asq_5",)


# --- C-SSRS screener ------------------------------------------------------------------------


def reference_cssrs(answers: dict[str, str]) -> str:
    """Reference section 3, "Screener with Triage Points"; a refusal counts as a yes (the
    conservative reading the ASQ pathway gives a refusal, a programme choice)."""
    a = {k: "yes" if v == "decline" else v for k, v in answers.items()}
    if a.get("cssrs_4") == "yes" or a.get("cssrs_5") == "yes" or a.get("cssrs_6b") == "yes":
        return "high"
    if a.get("cssrs_3") == "yes" or (a.get("cssrs_6") == "yes" and a.get("cssrs_6b") == "no"):
        return "moderate"
    if a.get("cssrs_1") == "yes" or a.get("cssrs_2") == "yes":
        return "low"
    return "none"


#: Priorities from config/priorities.yaml (the one table): ideation is high everywhere.
CSSRS_FLAG = {
    "none": None,
    "low": (Priority.HIGH, "suicide_ideation_low"),
    "moderate": (Priority.HIGH, "suicide_risk_moderate"),
    "high": (Priority.HIGH, "suicide_risk_high"),
}


def test_cssrs_every_path_matches_the_reference() -> None:
    inst = instrument("cssrs")
    seen: set[str] = set()
    for answers in all_paths(inst):
        expected = reference_cssrs(answers)
        seen.add(expected)
        result = score(inst, answers)
        assert result.result is not None and result.result.code == expected, answers
        assert cssrs_risk(inst, answers) is CssrsRisk(expected)
        want = CSSRS_FLAG[expected]
        if want is None:
            assert result.flags == ()
            assert result.referral is False
            assert result.positive is False
        else:
            assert [(f.priority, f.flag) for f in result.flags] == [want]
            assert result.referral is True
    assert seen == {"none", "low", "moderate", "high"}


NO_IDEATION = {"cssrs_1": "no", "cssrs_2": "no"}
IDEATION = {"cssrs_1": "yes", "cssrs_2": "yes", "cssrs_3": "no", "cssrs_4": "no", "cssrs_5": "no"}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (NO_IDEATION | {"cssrs_6": "no"}, CssrsRisk.NONE),
        ({"cssrs_1": "yes", "cssrs_2": "no", "cssrs_6": "no"}, CssrsRisk.LOW),
        (IDEATION | {"cssrs_6": "no"}, CssrsRisk.LOW),
        (IDEATION | {"cssrs_3": "yes", "cssrs_6": "no"}, CssrsRisk.MODERATE),
        (NO_IDEATION | {"cssrs_6": "yes", "cssrs_6b": "no"}, CssrsRisk.MODERATE),
        (IDEATION | {"cssrs_4": "yes", "cssrs_6": "no"}, CssrsRisk.HIGH),
        (IDEATION | {"cssrs_5": "yes", "cssrs_6": "no"}, CssrsRisk.HIGH),
        (NO_IDEATION | {"cssrs_6": "yes", "cssrs_6b": "yes"}, CssrsRisk.HIGH),
    ],
)
def test_cssrs_each_risk_level(answers: dict[str, str], expected: CssrsRisk) -> None:
    assert cssrs_risk(instrument("cssrs"), answers) is expected


def test_cssrs_recent_behaviour_flag_names_the_follow_up() -> None:
    result = score(instrument("cssrs"), NO_IDEATION | {"cssrs_6": "yes", "cssrs_6b": "yes"})
    assert result.flags[0].items == ("cssrs_6b",)


def test_cssrs_answers_to_skipped_questions_are_ignored() -> None:
    answers = NO_IDEATION | {"cssrs_4": "yes", "cssrs_6": "no"}
    assert cssrs_risk(instrument("cssrs"), answers) is CssrsRisk.NONE


# --- invalid answers ----------------------------------------------------------------------


def test_missing_item_is_rejected() -> None:
    inst = instrument("phq9")
    answers = spread_total(inst, 5)
    del answers["phq9_4"]
    with pytest.raises(ValueError, match="phq9_4"):
        score(inst, answers)


def test_answer_code_that_is_not_an_option_is_rejected() -> None:
    inst = instrument("phq9")
    answers = spread_total(inst, 5) | {"phq9_2": "4"}
    with pytest.raises(ValueError, match="not an option of item phq9_2"):
        score(inst, answers)


def test_asq_refusal_of_the_acuity_question_is_acute() -> None:
    inst = instrument("asq")
    answers = {i: "no" for i in ASQ_SCREEN} | {"asq_2": "yes", "asq_5": "decline"}
    assert asq_result(inst, answers) is AsqResult.ACUTE_POSITIVE
    assert score(inst, answers).highest_priority is Priority.IMMINENT


def test_unknown_item_is_rejected() -> None:
    inst = instrument("gad7")
    with pytest.raises(ValueError, match="phq9_1"):
        score(inst, spread_total(inst, 3) | {"phq9_1": "0"})


def test_named_helpers_refuse_the_wrong_instrument() -> None:
    with pytest.raises(ValueError, match="asq"):
        asq_result(instrument("cssrs"), NO_IDEATION | {"cssrs_6": "no"})
    with pytest.raises(ValueError, match="cssrs"):
        cssrs_risk(instrument("asq"), dict.fromkeys(ASQ_SCREEN, "no"))


def test_score_records_instrument_and_version() -> None:
    inst = instrument("gad2")
    result = score(inst, spread_total(inst, 3))
    assert (result.instrument_id, result.version) == ("gad2", inst.version)
    assert result.code == "positive"
