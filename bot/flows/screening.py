"""Taking a person through instruments: plans, items, answers, back, and results."""

from __future__ import annotations

from datetime import datetime

from bot.content import Content
from bot.content.flows import GateStep
from bot.flows import prompts, risk
from bot.flows.state import ConvState, State, Step
from bot.flows.types import RaiseSignal, SaveScreening
from bot.instruments.schema import Instrument
from bot.scoring import ScoreResult, next_item, score

GATE_PREFIX = "gate:"
#: Set when an instrument ends with a high or imminent signal: the engine starts waiting.
START_WAITING = "start_waiting"
#: The priority to wait with after the "right now?" question.
WAITING_PRIORITY = "waiting_priority"


def full_check_plan(content: Content) -> list[str]:
    """``["gate:phq2:phq9", "gate:gad2:gad7", "asq"]`` from ``flows.yaml``."""
    plan: list[str] = []
    for step in content.flows.full_check:
        if isinstance(step, GateStep):
            plan.append(f"{GATE_PREFIX}{step.gate}:{step.then}")
        else:
            plan.append(step.instrument)
    return plan


def start_plan(content: Content, conv: ConvState, plan: list[str], now: datetime) -> Step:
    step = Step()
    conv.clear_questionnaire()
    conv.plan = list(plan)
    conv.context["in_plan"] = len(plan) > 1
    if len(plan) > 1:
        step.say(content.catalog(conv.language).render("full_check_intro"))
    _advance_plan(content, conv, step, now, carried={})
    return step


def _advance_plan(
    content: Content, conv: ConvState, step: Step, now: datetime, carried: dict[str, str]
) -> None:
    """Start the next instrument in the plan, or finish the plan."""
    if not conv.plan:
        _finish_plan(content, conv, step)
        return
    entry = conv.plan.pop(0)
    if entry.startswith(GATE_PREFIX):
        gate, then = entry.removeprefix(GATE_PREFIX).split(":", 1)
        conv.context["gate_then"] = then
        instrument_id = gate
    else:
        conv.context.pop("gate_then", None)
        instrument_id = entry
    _start_instrument(content, conv, step, instrument_id, carried, now)


def _start_instrument(
    content: Content,
    conv: ConvState,
    step: Step,
    instrument_id: str,
    carried: dict[str, str],
    now: datetime,
) -> None:
    """Ask the first unanswered item (or complete it at once if carried answers fill it)."""
    instrument = content.instruments[instrument_id]
    conv.instrument_id = instrument.id
    conv.answers = carry_answers(content.instruments, carried, instrument)
    conv.context["started_at"] = now.isoformat()
    item = next_item(instrument, conv.answers)
    if item is None:
        _complete_instrument(content, conv, step, now)
        return
    conv.item_id = item.id
    conv.state = State.QUESTION
    _, count = prompts.fixed_progress(instrument, conv.answers)
    catalog = content.catalog(conv.language)
    step.say(
        catalog.render(
            "instrument_intro", name=instrument.short_name.get(conv.language), count=count
        )
    )
    step.replies.append(prompts.question(content, conv))


def carry_answers(
    instruments: dict[str, Instrument], carried: dict[str, str], target: Instrument
) -> dict[str, str]:
    """Answers from a gate (``{"phq2:phq2_1": "2"}``) mapped onto the full instrument's items
    with the same LOINC code, so a person is never asked the same question twice."""
    by_loinc: dict[str, str] = {}
    for key, code in carried.items():
        source_id, item_id = key.split(":", 1)
        loinc = instruments[source_id].item(item_id).loinc
        if loinc:
            by_loinc[loinc] = code
    return {item.id: by_loinc[item.loinc] for item in target.items if item.loinc in by_loinc}


def answer(content: Content, conv: ConvState, code: str, now: datetime) -> Step:
    step = Step()
    instrument = content.instruments[conv.instrument_id or ""]
    item_id = conv.item_id or ""
    conv.answers = {**conv.answers, item_id: code}
    risk.on_answer(content, conv, item_id, code, step)  # at the answer, never at completion
    item = next_item(instrument, conv.answers)
    if item is None:
        _complete_instrument(content, conv, step, now)
    else:
        conv.item_id = item.id
        step.replies.append(prompts.question(content, conv))
    return step


def back(content: Content, conv: ConvState) -> Step:
    """Go to the previous answered item and ask it again (its answer is dropped)."""
    step = Step()
    instrument = content.instruments[conv.instrument_id or ""]
    answered = [item.id for item in instrument.items if item.id in conv.answers]
    if not answered:
        step.say(content.catalog(conv.language).render("first_question"))
    else:
        previous = answered[-1]
        item = instrument.item(previous)
        code = conv.answers[previous]
        label = next(
            (o.label.get(conv.language) for o in instrument.options_for(item) if o.code == code),
            code,
        )
        conv.answers = {k: v for k, v in conv.answers.items() if k != previous}
        conv.item_id = previous
        # The answer being changed is shown, so the person knows what they are changing.
        step.say(content.catalog(conv.language).render("back_changing", answer=label))
    step.replies.append(prompts.question(content, conv))
    return step


def _complete_instrument(content: Content, conv: ConvState, step: Step, now: datetime) -> None:
    instrument = content.instruments[conv.instrument_id or ""]
    result = score(instrument, conv.answers)
    started = conv.context.get("started_at")
    step.effects.append(
        SaveScreening(
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            answers=dict(conv.answers),
            total=result.total,
            max_total=result.max_total,
            band=result.band.code if result.band else None,
            result=result.result.code if result.result else None,
            positive=result.positive,
            flags=[
                {"rule": f.rule_id, "flag": f.flag, "priority": str(f.priority)}
                for f in result.flags
            ],
            started_at=datetime.fromisoformat(started) if started else now,
        )
    )
    top = risk.highest_raised(conv)
    raised = top is not None
    for flag in result.flags:
        priority = risk.completion_priority(content, instrument.id, flag.rule_id, flag.priority)
        top = risk.more_urgent_of(top, priority)
        if risk.already_raised(conv, priority):
            continue  # raised when the answer was given
        step.effects.append(
            RaiseSignal(
                source="instrument",
                rule_id=f"{instrument.id}.{flag.rule_id}",
                priority=priority,
                reason=flag.description,
                detail={
                    "instrument": instrument.id,
                    "flag": flag.flag,
                    "items": list(flag.items),
                    "answers": dict(conv.answers),
                    "total": result.total,
                },
            )
        )
    gate_then = conv.context.pop("gate_then", None)
    carried = {f"{instrument.id}:{k}": v for k, v in conv.answers.items()}
    catalog = content.catalog(conv.language)
    at_risk = bool(result.flags) or raised
    crisis = content.resources.first_lines_text(conv.language)
    if gate_then is not None:
        positive = result.positive
        step.say(catalog.render("gate_positive" if positive else "gate_negative"))
        if positive:
            conv.plan.insert(0, gate_then)
        if at_risk:
            step.say(catalog.render("safety", crisis_lines=crisis))
    elif at_risk:
        # The band's words ("minimal symptoms…") would contradict the risk: the safety
        # message replaces them.
        step.say(risk_result_text(content, conv.language, instrument, result, crisis))
    else:
        step.say(result_text(content, conv.language, instrument, result))
    if at_risk:
        conv.context["escalated"] = True
    elif result.referral:
        conv.context["referral"] = True
    ask_now = bool(conv.context.pop(risk.ASK_NOW, False))
    conv.context.pop(risk.RAISED, None)
    conv.instrument_id = None
    conv.item_id = None
    conv.answers = {}
    if ask_now:
        # Intent or a plan: the "right now?" question before anything else (SPiER pathway).
        conv.plan = []
        conv.context["after_acuity"] = State.MENU.value
        conv.context[WAITING_PRIORITY] = top
        conv.state = State.ACUITY
        step.replies.append(prompts.prompt(content, conv))
        return
    if at_risk and top in ("imminent", "high"):
        # No more questions: the person waits for a psychologist (the engine says how long).
        conv.plan = []
        conv.context[START_WAITING] = top
        return
    _advance_plan(content, conv, step, now, carried if gate_then else {})


def result_text(content: Content, lang: str, instrument: Instrument, result: ScoreResult) -> str:
    catalog = content.catalog(lang)
    name = instrument.short_name.get(lang)
    if result.band is not None:
        head = catalog.render("result_total", name=name, total=result.total, max=result.max_total)
        label, action = result.band.label.get(lang), result.band.action.get(lang)
    else:
        assert result.result is not None
        head = catalog.render("result_category", name=name)
        label, action = result.result.label.get(lang), result.result.action.get(lang)
    return "\n".join([head, label, action, "", catalog.render("result_disclaimer")])


def risk_result_text(
    content: Content, lang: str, instrument: Instrument, result: ScoreResult, crisis: str
) -> str:
    """A result when a risk rule fired: the total (if any) and the safety message only."""
    catalog = content.catalog(lang)
    name = instrument.short_name.get(lang)
    safety = catalog.render("safety", crisis_lines=crisis)
    if result.total is None:
        return safety
    head = catalog.render("result_total", name=name, total=result.total, max=result.max_total)
    return f"{head}\n\n{safety}"


def _finish_plan(content: Content, conv: ConvState, step: Step) -> None:
    catalog = content.catalog(conv.language)
    if conv.context.get("in_plan"):
        step.say(catalog.render("full_check_done"))
    wants_referral = conv.context.get("referral") and not conv.context.get("escalated")
    conv.clear_questionnaire()
    conv.context.pop("escalated", None)
    if wants_referral:
        conv.state = State.REFERRAL
    else:
        conv.state = State.MENU
    step.replies.append(prompts.prompt(content, conv))
