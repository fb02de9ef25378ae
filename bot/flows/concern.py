"""The check question: what the engine does when the crisis detector is unsure.

Asking directly about suicide does not raise risk (Dazzi et al. 2014; DeCou & Schumann
2018: sources in ``config/messages/<lang>.yaml``), so a message the detector cannot place
gets one short, direct question instead of a guess either way:

* "sí", "prefiero no responder", an ambivalent "no sé" or "a veces", a reply the detector
  itself finds worrying, or a second unclear reply: a psychologist is alerted, with the
  crisis reply (``CHECK_YES_RULE``);
* "no": back to where the person was, with a line saying we are here;
* silence: the question is asked together with a *held* signal (``SILENCE_RULE``) that
  escalation acts on after ``check_silence_minutes`` unless an answer withdraws it first.
  Held in the database, it survives a crash or restart like any other signal.

No psychologist is paged for the unsure message itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.content import Content
from bot.flows import prompts
from bot.flows.matching import match_choice, normalize
from bot.flows.state import ConvState, State, Step
from bot.flows.types import NoteForReview, RaiseSignal, WithdrawHeldSignals


@dataclass(frozen=True, slots=True)
class Concern:
    """The detector's unsure reading of a message: its most likely kind of risk.

    ``unrecognised_only``: below the unsure threshold but above the one for messages that
    answer nothing: asked only in the middle of a questionnaire."""

    category: str
    score: float
    unrecognised_only: bool = False


ConcernDetector = Callable[[str], Concern | None]


def no_concern(_text: str) -> Concern | None:
    return None


#: Kinds of message about someone else: the question and the reply speak of that person.
THIRD_PARTY = frozenset({"third_party", "third_party_emergency"})
SILENCE_RULE = "text.check_unanswered"
CHECK_YES_RULE = "check_yes"
#: Priority of a "yes" (or its equivalents) to the check question: a disclosed wish to die
#: without a stated plan or time, as free text saying so. The one priority table
#: (``config/priorities.yaml``, row ``check_yes``) decides; this is its fallback.
CHECK_PRIORITY = "high"
#: States where an unsure message is not questioned: before consent (the welcome already
#: gives the crisis lines), after STOP, and while another safety question is open.
NOT_ASKED_IN = frozenset(
    {
        State.NEW,
        State.LANGUAGE,  # before consent now (the language is chosen first)
        State.CONSENT,
        State.REFUSED,
        State.STOPPED,
        # Already waiting for a psychologist (a case is open): certain crisis words still
        # raise a signal; an unsure one is read by the psychologist on the case.
        State.WAITING,
        State.SAFETY_PLAN,
        State.ACUITY,
        State.CHECK,
        State.CONFIRM_DELETE,
    }
)
#: After a "no", the question is not asked again for this long (the person is not
#: questioned at every ambiguous line; crisis wording still gets the crisis reply at once).
QUIET_AFTER_NO = timedelta(minutes=30)
#: Unclear replies after which the question counts as declined.
MAX_UNCLEAR = 2

Answer = Literal["yes", "no", "unclear"]


def may_ask(conv: ConvState, now: datetime) -> bool:
    if conv.state in NOT_ASKED_IN:
        return False
    said_no = conv.context.get("check_no_at")
    return said_no is None or now - datetime.fromisoformat(said_no) >= QUIET_AFTER_NO


def ask(content: Content, conv: ConvState, concern: Concern, message: str) -> Step:
    """Ask the check question about ``message``; hold a signal for the silence rule."""
    about = "other" if concern.category in THIRD_PARTY else "self"
    conv.context["after_check"] = conv.state.value
    conv.context["check"] = {
        "about": about,
        "category": concern.category,
        "unclear": 0,
        # Quoted in the alert if the answer is yes (cleared with the rest on BORRAR).
        "message": message[:500],
    }
    conv.state = State.CHECK
    silence = timedelta(minutes=content.flows.check_silence_minutes)
    step = Step()
    step.effects.append(
        RaiseSignal(
            source="free_text",
            rule_id=SILENCE_RULE,
            priority=content.priorities.priority_of(CHECK_YES_RULE, CHECK_PRIORITY),
            reason=f"{concern.category} (check question unanswered)",
            detail={"message": message[:1000], "score": round(concern.score, 3)},
            hold_for=silence,
        )
    )
    step.effects.append(NoteForReview("unsure", concern.category, round(concern.score, 3)))
    step.replies.append(prompts.prompt(content, conv))
    return step


def read_answer(
    content: Content, conv: ConvState, text: str, payload: str | None, worrying: bool
) -> Answer:
    """What a reply to the check question means. ``worrying``: the detector found risk in
    the reply itself (then anything but a plain "no" is a yes)."""
    choices = prompts.current_choices(content, conv)
    if payload is not None:
        chosen = next((c for c in choices if c.payload == payload), None)
    else:
        chosen = match_choice(text, choices, prompts.aliases_for(content, conv))
    if chosen is not None:
        return "no" if chosen.payload == "check:no" else "yes"
    kw = content.catalog(conv.language).keywords
    norm = normalize(text)
    words = norm.split()
    no_words = {normalize(w) for w in kw.no}
    not_a_no = [normalize(p) for p in (*kw.unclear, *kw.unsure, *kw.decline)]
    starts_otherwise = any(norm == p or norm.startswith(p + " ") for p in not_a_no)
    if words and words[0] in no_words and not worrying and not starts_otherwise:
        return "no"  # "no, solo estoy cansada"
    if starts_otherwise and not worrying:
        unsure_or_declined = any(
            norm == p or norm.startswith(p + " ")
            for p in (normalize(w) for w in (*kw.unsure, *kw.decline))
        )
        return "yes" if unsure_or_declined else "unclear"
    if worrying:
        return "yes"
    return "unclear"


def settle(conv: ConvState) -> tuple[State, str, WithdrawHeldSignals]:
    """Leave the check state: the state to return to, who the question was about, and the
    effect withdrawing the held silence signal."""
    check = conv.context.pop("check", {})
    previous = State(conv.context.pop("after_check", State.MENU.value))
    withdraw = WithdrawHeldSignals(rule_id=SILENCE_RULE, reason="check question answered")
    return previous, str(check.get("about", "self")), withdraw


def count_unclear(conv: ConvState) -> bool:
    """Count an unclear reply; True when there have been too many (counts as declined)."""
    check = conv.context.setdefault("check", {})
    check["unclear"] = int(check.get("unclear", 0)) + 1
    return bool(check["unclear"] >= MAX_UNCLEAR)
