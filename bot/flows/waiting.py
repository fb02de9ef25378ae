"""Waiting for a human after a disclosure (state ``WAITING``).

It starts with any signal of priority high or imminent raised in the conversation, and on
request at a lower priority (the person asks to talk to a psychologist: they may then go back
to the menu, the request standing). It ends
when a psychologist writes (the case goes ``in_conversation``: the flow pauses) or resolves
the case (``bot.flows.service`` then returns the person to the menu). Meanwhile:

* the person is told that a psychologist was alerted and roughly when to expect them (from
  the roster's chain for that priority), and what to do if nobody writes;
* no questionnaire, menu or "welcome back": short, warm replies; "¿cuándo me escriben?" gets
  an answer; the safety plan (``bot.flows.safety_plan``) and the helplines are offered;
* crisis words still raise a signal (``Engine.step`` checks every message first);
* check-ins and the honest "nobody has acknowledged yet" notice are durable timers
  (``StartWaiting`` effect; ``bot.waiting.timers`` sends them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.content import Content
from bot.flows import prompts, safety_plan
from bot.flows.matching import normalize
from bot.flows.state import ConvState, State, Step
from bot.flows.types import StartWaiting
from bot.outbox.reply import Choice, Reply

#: Priorities that start the waiting state.
WAITING_PRIORITIES = frozenset({"imminent", "high"})
WAITING_STATES = frozenset({State.WAITING, State.SAFETY_PLAN})
KEY = "waiting"

#: (priority, now) -> minutes within which a psychologist should have acknowledged.
ExpectMinutes = Callable[[str, datetime], int]

#: Without a roster: the default chains' first pass (3 steps of 2 and 5 minutes).
DEFAULT_MINUTES = {"imminent": 6, "high": 15, "moderate": 90, "routine": 24 * 60}


def default_expect_minutes(priority: str, _now: datetime) -> int:
    return DEFAULT_MINUTES.get(priority, 15)


def starts_waiting(priority: str | None) -> bool:
    return priority in WAITING_PRIORITIES


def within(content: Content, conv: ConvState, minutes: int) -> str:
    """``minutes`` as a person says it: "in the next 15 minutes", "… 14 hours", "… 2 days"."""
    catalog = content.catalog(conv.language)
    if minutes <= 90:
        return catalog.render("waiting_within_minutes", n=max(1, minutes))
    hours = -(-minutes // 60)  # rounded up: never promise sooner than the roster says
    if hours <= 36:
        return catalog.render("waiting_within_hours", n=hours)
    return catalog.render("waiting_within_days", n=-(-hours // 24))


def enter(
    content: Content, conv: ConvState, step: Step, priority: str, now: datetime, minutes: int
) -> None:
    """Tell the person what happens now, schedule the check-ins, and wait."""
    catalog = content.catalog(conv.language)
    conv.clear_questionnaire()
    conv.context.pop("after_acuity", None)
    previous = conv.context.get(KEY) or {}
    conv.context[KEY] = {
        "since": previous.get("since") or now.isoformat(),
        "priority": priority,
        "minutes": minutes,
        # Asked for by the person at a lower priority: they may go back to the menu.
        "on_request": not starts_waiting(priority) and previous.get("on_request", True),
    }
    conv.state = State.WAITING
    started = "waiting_started_request" if conv.context[KEY]["on_request"] else "waiting_started"
    step.say(catalog.render(started, when=within(content, conv, minutes)))
    step.effects.append(
        StartWaiting(checkins=tuple(content.flows.waiting_checkins_minutes), expect_minutes=minutes)
    )
    step.replies.append(prompt(content, conv))


def no_way_back(conv: ConvState) -> None:
    """Crisis words while waiting on request: no more "back to the menu"."""
    info = conv.context.get(KEY)
    if isinstance(info, dict):
        info["on_request"] = False


def prompt(content: Content, conv: ConvState) -> Reply:
    if conv.state is State.SAFETY_PLAN:
        return safety_plan.prompt(content, conv)
    catalog = content.catalog(conv.language)
    return Reply(catalog.render("waiting_prompt"), choices(content, conv))


def choices(content: Content, conv: ConvState) -> tuple[Choice, ...]:
    catalog = content.catalog(conv.language)
    options: tuple[Choice, ...] = (
        Choice(key="1", label=catalog.render("waiting_choice_plan"), payload="waiting:plan"),
        Choice(key="2", label=catalog.render("waiting_choice_lines"), payload="waiting:lines"),
    )
    if (conv.context.get(KEY) or {}).get("on_request"):
        menu = Choice(key="3", label=catalog.render("waiting_choice_menu"), payload="waiting:menu")
        options += (menu,)
    return options


def asks_when(content: Content, conv: ConvState, text: str) -> bool:
    norm = f" {normalize(text)} "
    words = content.catalog(conv.language).keywords.when
    return any(f" {normalize(w)} " in norm for w in words if normalize(w))


def when_text(content: Content, conv: ConvState, now: datetime) -> str:
    catalog = content.catalog(conv.language)
    info = conv.context.get(KEY) or {}
    minutes = int(info.get("minutes") or 15)
    since = datetime.fromisoformat(info["since"]) if info.get("since") else now
    left = minutes - int((now - since).total_seconds() // 60)
    if left <= 0:
        return catalog.render("waiting_when_late")
    key = "waiting_when_request" if info.get("on_request") else "waiting_when"
    return catalog.render(key, when=within(content, conv, left))


def route(
    content: Content,
    conv: ConvState,
    text: str,
    payload: str | None,
    command: str | None,
    now: datetime,
) -> Step:
    """A message while waiting (STOP, DELETE and HELP are handled before this)."""
    if conv.state is State.SAFETY_PLAN:
        return safety_plan.answer(content, conv, text, payload)
    catalog = content.catalog(conv.language)
    step = Step()
    chosen = payload
    if chosen is None:
        typed = normalize(text)
        for choice in choices(content, conv):
            if typed in (choice.key, normalize(choice.label)):
                chosen = choice.payload
    if chosen == "waiting:plan":
        return safety_plan.start(content, conv)
    if chosen == "waiting:menu" and (conv.context.get(KEY) or {}).get("on_request"):
        # The case stays open and the psychologist still writes; the timers see the state.
        conv.state = State.MENU
        conv.context.pop(KEY, None)
        step.say(catalog.render("waiting_left"))
        step.replies.append(prompts.prompt(content, conv))
        return step
    kw = content.catalog(conv.language).keywords
    if chosen is None and normalize(text) in {normalize(w) for w in kw.lines}:
        chosen = "waiting:lines"
    if chosen == "waiting:lines":
        lines = content.resources.crisis_lines_text(conv.language)
        step.say(catalog.render("waiting_lines", crisis_lines=lines))
    elif asks_when(content, conv, text):
        step.say(when_text(content, conv, now))
    elif command is not None or _is_flow_word(content, conv, text):
        step.say(catalog.render("waiting_no_questionnaire"))
    else:
        step.say(catalog.render("waiting_reply"))
    step.replies.append(prompt(content, conv))
    return step


def _is_flow_word(content: Content, conv: ConvState, text: str) -> bool:
    kw = content.catalog(conv.language).keywords
    words = [*kw.menu, *kw.start, *kw.back, *kw.repeat, *kw.continue_]
    norm = normalize(text)
    return any(norm == normalize(w) for w in words)
