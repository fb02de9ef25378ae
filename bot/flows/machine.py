"""The conversation engine: one inbound message in, replies and effects out.

Plain Python: no database, no channel, no web framework. ``bot.flows.service`` loads the
state, calls :meth:`Engine.step` and saves the result in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.content import Content
from bot.flows import prompts, safety_plan, screening, waiting
from bot.flows.matching import command_of, is_keyword, match_choice
from bot.flows.state import ConvState, State, Step
from bot.flows.types import (
    DeleteData,
    ForgetMessages,
    Inbound,
    RaiseSignal,
    RecordConsent,
    Reply,
    SetOptOut,
)

#: Longest message the engine reads as an answer; longer ones get a polite "too long".
MAX_ANSWER_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class CrisisMatch:
    """What free-text crisis detection found in a message."""

    category: str
    priority: str
    pattern_id: str
    matched: str


CrisisDetector = Callable[[str], CrisisMatch | None]


def _no_detector(_text: str) -> CrisisMatch | None:
    return None


class Engine:
    def __init__(
        self,
        content: Content,
        *,
        inactivity_expiry: timedelta = timedelta(hours=24),
        detect_crisis: CrisisDetector = _no_detector,
        expect_minutes: waiting.ExpectMinutes = waiting.default_expect_minutes,
    ) -> None:
        self.content = content
        self.expect_minutes = expect_minutes
        self.inactivity_expiry = inactivity_expiry
        self.resume_after = timedelta(minutes=content.flows.resume_prompt_after_minutes)
        self.detect_crisis = detect_crisis

    # --- entry point ------------------------------------------------------------------------

    def step(self, conv: ConvState, msg: Inbound, now: datetime) -> Step:
        ended = conv.context.pop(WAITING_ENDED, False)
        crisis = self.detect_crisis(msg.text) if msg.kind == "text" and msg.text else None
        if crisis is not None:
            step = self._crisis(conv, msg, crisis)
        else:
            step = self._route(conv, msg, now)
        start = conv.context.pop(screening.START_WAITING, None)
        if start is not None:
            minutes = self.expect_minutes(start, now)
            waiting.enter(self.content, conv, step, start, now, minutes)
        if ended:
            over = self.content.catalog(conv.language).render("waiting_over")
            step.replies.insert(0, Reply(text=over))
        conv.last_activity_at = now
        return step

    def end_waiting(self, conv: ConvState) -> None:
        """A psychologist resolved the case: the person is no longer waiting (told at their
        next message)."""
        if conv.state in waiting.WAITING_STATES:
            conv.state = State.MENU
            conv.context.pop(waiting.KEY, None)
            conv.context[WAITING_ENDED] = True

    def step_paused(self, conv: ConvState, msg: Inbound, now: datetime) -> Step:
        """A psychologist is talking with this person (escalation case in conversation): the
        flow stays silent and keeps its state; crisis words still raise a signal and get the
        crisis lines."""
        crisis = self.detect_crisis(msg.text) if msg.kind == "text" and msg.text else None
        step = Step()
        if crisis is not None:
            step.effects.append(_crisis_signal(crisis, msg))
            crisis_lines = self.content.resources.first_lines_text(conv.language)
            catalog = self.content.catalog(conv.language)
            step.say(catalog.render("crisis_detected", crisis_lines=crisis_lines))
        return step

    # --- routing ------------------------------------------------------------------------

    def _route(self, conv: ConvState, msg: Inbound, now: datetime) -> Step:
        catalog = self.content.catalog(conv.language)
        text = msg.text or ""
        command = command_of(text)

        if conv.state in (State.NEW, State.REFUSED):
            return self._welcome(conv)
        if msg.kind != "text":
            # A voice note or a photo may carry a crisis we cannot read: kind words and the
            # crisis lines, every time (issue 11, item 6).
            lines = self.content.resources.first_lines_text(conv.language)
            return self._reprompt(conv, catalog.render("unsupported", crisis_lines=lines))
        if conv.opted_out or conv.state is State.STOPPED:
            return self._stopped(conv, text, command)
        if len(text) > MAX_ANSWER_LENGTH:
            return self._reprompt(conv, catalog.render("too_long"))
        if conv.state in waiting.WAITING_STATES:
            return self._waiting(conv, text, command, msg.payload, now)

        expired = self._expire_if_idle(conv, now)
        if expired is not None:
            return expired

        global_step = self._global(conv, text, command, msg.payload, now)
        if global_step is not None:
            return global_step
        if conv.state is State.QUESTION and self._idle_for(conv, now) >= self.resume_after:
            conv.state = State.RESUME
            return self._reprompt(conv)
        return self._in_state(conv, text, msg.payload, now)

    def _global(
        self, conv: ConvState, text: str, command: str | None, payload: str | None, now: datetime
    ) -> Step | None:
        """Commands and keywords that work in every state (after consent)."""
        if payload is not None:
            return None
        kw = self.content.catalog(conv.language).keywords
        other = self.content.catalog("en" if conv.language == "es" else "es").keywords

        def said(words: list[str], other_words: list[str], *commands: str) -> bool:
            return command in commands or is_keyword(text, [*words, *other_words])

        if said(kw.stop, other.stop, "stop"):
            return self._stop(conv)
        if conv.state in (State.LANGUAGE, State.CONSENT):
            # Before consent only STOP and HELP; everything else answers the question.
            if said(kw.help, other.help, "help"):
                return self._reprompt(conv, self.content.catalog(conv.language).render("help"))
            return None
        if said(kw.lines, other.lines, "lines"):
            text = self.content.catalog(conv.language).render(
                "resources",
                crisis_lines=self.content.resources.crisis_lines_text(conv.language),
                resources=self.content.resources.resources_text(conv.language),
            )
            return self._reprompt(conv, text)
        if said(kw.delete, other.delete, "delete"):
            conv.context["before_delete"] = conv.state.value
            conv.state = State.CONFIRM_DELETE
            return self._reprompt(conv)
        if said(kw.help, other.help, "help"):
            return self._reprompt(conv, self.content.catalog(conv.language).render("help"))
        if said(kw.menu, other.menu, "menu"):
            conv.clear_questionnaire()
            conv.state = State.MENU
            return self._reprompt(conv)
        if command in ("phq9", "gad7", "cssrs", "screen"):
            plan = {
                "phq9": [self.content.flows.depression_check],
                "gad7": [self.content.flows.anxiety_check],
                "cssrs": [self.content.flows.safety_check],
                "screen": screening.full_check_plan(self.content),
            }[command]
            return screening.start_plan(self.content, conv, plan, now)
        if said(kw.start, other.start, "start"):
            if conv.state is State.QUESTION:
                conv.state = State.RESUME
            elif conv.state is not State.RESUME:
                conv.state = State.MENU
            return self._reprompt(conv)
        if conv.state is State.QUESTION and said(kw.back, other.back, "back"):
            return screening.back(self.content, conv)
        if said(kw.repeat, other.repeat, "repeat"):
            return self._reprompt(conv)
        if command is not None:
            return self._reprompt(
                conv, self.content.catalog(conv.language).render("unknown_command")
            )
        return None

    def _waiting(
        self, conv: ConvState, text: str, command: str | None, payload: str | None, now: datetime
    ) -> Step:
        """While waiting for a psychologist only STOP, DELETE and HELP work as usual."""
        if payload is None:
            kw = self.content.catalog(conv.language).keywords
            other = self.content.catalog("en" if conv.language == "es" else "es").keywords
            if command == "stop" or is_keyword(text, [*kw.stop, *other.stop]):
                return self._stop(conv)
            if command == "delete" or is_keyword(text, [*kw.delete, *other.delete]):
                conv.context["before_delete"] = State.WAITING.value
                conv.state = State.CONFIRM_DELETE
                return self._reprompt(conv)
            if command == "help" or is_keyword(text, [*kw.help, *other.help]):
                help_text = self.content.catalog(conv.language).render("help")
                return self._reprompt(conv, help_text)
        return waiting.route(self.content, conv, text, payload, command, now)

    def _in_state(self, conv: ConvState, text: str, payload: str | None, now: datetime) -> Step:
        choices = prompts.current_choices(self.content, conv)
        catalog = self.content.catalog(conv.language)
        if payload is not None:
            choice = next((c for c in choices if c.payload == payload), None)
            if choice is None:
                return self._reprompt(conv, catalog.render("stale_button"))
        else:
            choice = match_choice(text, choices, prompts.aliases_for(self.content, conv))
        if choice is None:
            key = "invalid_answer" if conv.state is State.QUESTION else "invalid_choice"
            return self._reprompt(conv, catalog.render(key))
        kind, _, value = choice.payload.rpartition(":")
        return self._choose(conv, kind, value, now)

    def _choose(self, conv: ConvState, kind: str, value: str, now: datetime) -> Step:
        """Act on a recognised choice. ``kind`` is the payload without its last part."""
        catalog = self.content.catalog(conv.language)
        if conv.state is State.LANGUAGE:
            # The language comes first, so that consent is asked in the person's language.
            conv.language = value
            conv.state = State.CONSENT
            return self._reprompt(conv)
        if conv.state is State.CONSENT:
            given = value == "yes"
            if not given:
                conv.state = State.REFUSED
                step = Step(
                    effects=[RecordConsent(False, catalog.consent_version), ForgetMessages()]
                )
                step.say(catalog.render("consent_refused"))
                return step
            conv.state = State.MENU
            step = self._reprompt(conv)
            step.effects.insert(0, RecordConsent(True, catalog.consent_version))
            return step
        if conv.state is State.MENU:
            return self._menu(conv, value, now)
        if conv.state is State.QUESTION:
            return screening.answer(self.content, conv, value, now)
        if conv.state is State.RESUME:
            if value == "yes":
                conv.state = State.QUESTION
            else:
                conv.clear_questionnaire()
                conv.state = State.MENU
            return self._reprompt(conv)
        if conv.state is State.REFERRAL:
            return self._referral(conv, accepted=value == "yes")
        if conv.state is State.CONFIRM_DELETE:
            return self._delete(conv, confirmed=value == "yes")
        if conv.state is State.ACUITY:
            return self._acuity_answer(conv, value, now)
        raise AssertionError(f"no choices in state {conv.state}")  # pragma: no cover

    # --- states ------------------------------------------------------------------------------

    def _welcome(self, conv: ConvState) -> Step:
        catalog = self.content.catalog(conv.language)
        step = Step()
        crisis = self.content.resources.first_lines_text(conv.language)
        step.say(catalog.render("welcome", crisis_lines=crisis))
        conv.state = State.LANGUAGE
        step.replies.append(prompts.prompt(self.content, conv))
        return step

    def _menu(self, conv: ConvState, action: str, now: datetime) -> Step:
        catalog = self.content.catalog(conv.language)
        flows = self.content.flows
        if action == "depression":
            return screening.start_plan(self.content, conv, [flows.depression_check], now)
        if action == "anxiety":
            return screening.start_plan(self.content, conv, [flows.anxiety_check], now)
        if action == "full":
            return screening.start_plan(
                self.content, conv, screening.full_check_plan(self.content), now
            )
        if action == "cssrs":
            return screening.start_plan(self.content, conv, [flows.safety_check], now)
        if action == "talk":
            step = self._reprompt(conv, catalog.render("talk_requested"))
            step.effects.append(_talk_request(self.content, "menu"))
            return step
        if action == "resources":
            text = catalog.render(
                "resources",
                crisis_lines=self.content.resources.crisis_lines_text(conv.language),
                resources=self.content.resources.resources_text(conv.language),
            )
            return self._reprompt(conv, text)
        if action == "delete":
            conv.context["before_delete"] = State.MENU.value
            conv.state = State.CONFIRM_DELETE
            return self._reprompt(conv)
        return self._stop(conv)

    def _referral(self, conv: ConvState, *, accepted: bool) -> Step:
        catalog = self.content.catalog(conv.language)
        conv.state = State.MENU
        if not accepted:
            return self._reprompt(conv, catalog.render("referral_declined"))
        step = self._reprompt(conv, catalog.render("referral_accepted"))
        step.effects.append(_talk_request(self.content, "referral_offer"))
        return step

    def _delete(self, conv: ConvState, *, confirmed: bool) -> Step:
        catalog = self.content.catalog(conv.language)
        if confirmed:
            conv.clear_questionnaire()
            conv.context = {}
            conv.state = State.NEW
            step = Step(effects=[DeleteData()])
            step.say(catalog.render("deleted"))
            return step
        previous = conv.context.pop("before_delete", State.MENU.value)
        conv.state = State(previous)
        return self._reprompt(conv, catalog.render("delete_cancelled"))

    def _stop(self, conv: ConvState) -> Step:
        conv.clear_questionnaire()
        conv.state = State.STOPPED
        conv.opted_out = True
        step = Step(effects=[SetOptOut(True)])
        step.say(self.content.catalog(conv.language).render("stopped"))
        return step

    def _stopped(self, conv: ConvState, text: str, command: str | None) -> Step:
        kw = self.content.catalog(conv.language).keywords
        other = self.content.catalog("en" if conv.language == "es" else "es").keywords
        if command == "start" or is_keyword(text, [*kw.restart, *other.restart]):
            conv.opted_out = False
            conv.state = State.MENU
            step = self._reprompt(conv, self.content.catalog(conv.language).render("restarted"))
            step.effects.insert(0, SetOptOut(False))
            return step
        if command == "delete" or is_keyword(text, [*kw.delete, *other.delete]):
            conv.opted_out = False
            conv.context["before_delete"] = State.STOPPED.value
            conv.state = State.CONFIRM_DELETE
            step = self._reprompt(conv)
            return step
        return self._reprompt(conv)

    # --- crisis ------------------------------------------------------------------------------

    def _crisis(self, conv: ConvState, msg: Inbound, crisis: CrisisMatch) -> Step:
        """Crisis words in any state: safe reply, crisis lines, a signal, the safety question."""
        catalog = self.content.catalog(conv.language)
        step = Step()
        step.effects.append(_crisis_signal(crisis, msg))
        crisis_lines = self.content.resources.first_lines_text(conv.language)
        step.say(catalog.render("crisis_detected", crisis_lines=crisis_lines))
        if conv.state is State.SAFETY_PLAN:
            # Words about means are expected in the plan ("mi hermano guarda las pastillas"):
            # the signal still goes to the case, the lines are given, and the answer is kept.
            plan_step = safety_plan.answer(self.content, conv, msg.text, msg.payload)
            step.replies.extend(plan_step.replies)
            step.effects.extend(plan_step.effects)
            return step
        if conv.state in waiting.WAITING_STATES:
            # Already waiting for a psychologist: the lines, the signal joins the case, and
            # the person stays with us.
            step.replies.append(prompts.prompt(self.content, conv))
            return step
        if conv.state is not State.ACUITY:
            conv.context["after_acuity"] = conv.state.value
        if conv.state in (State.NEW, State.REFUSED, State.LANGUAGE, State.CONSENT, State.STOPPED):
            # Not (yet) in a conversation with us: the lines and the alert, no questions.
            return step
        conv.context[screening.WAITING_PRIORITY] = _most_urgent(
            conv.context.get(screening.WAITING_PRIORITY), crisis.priority
        )
        conv.state = State.ACUITY
        step.replies.append(prompts.prompt(self.content, conv))
        return step

    def _acuity_answer(self, conv: ConvState, value: str, now: datetime) -> Step:
        catalog = self.content.catalog(conv.language)
        step = Step()
        priority = conv.context.pop(screening.WAITING_PRIORITY, None) or "high"
        if value in ("yes", "decline"):
            priority = "imminent"
            step.effects.append(
                RaiseSignal(
                    source="free_text",
                    rule_id="text.acuity_yes",
                    priority=self.content.priorities.priority_of("acuity_yes", "imminent"),
                    reason="acuity question answered yes after crisis words",
                    detail={"answer": value},
                )
            )
            step.say(catalog.render("acuity_followup_yes"))
        else:
            step.say(catalog.render("acuity_followup_no"))
        # No questionnaire and no "welcome back": the person waits for a human, with us.
        minutes = self.expect_minutes(priority, now)
        waiting.enter(self.content, conv, step, priority, now, minutes)
        return step

    # --- helpers -----------------------------------------------------------------------------

    def _reprompt(self, conv: ConvState, preface: str | None = None) -> Step:
        """Ask the current question again, with ``preface`` in the same message."""
        question = prompts.prompt(self.content, conv)
        text = f"{preface}\n\n{question.text}" if preface else question.text
        return Step(replies=[Reply(text=text, choices=question.choices)])

    def _idle_for(self, conv: ConvState, now: datetime) -> timedelta:
        if conv.last_activity_at is None:
            return timedelta(0)
        return now - conv.last_activity_at

    def _expire_if_idle(self, conv: ConvState, now: datetime) -> Step | None:
        """A questionnaire left for longer than the expiry is not resumed."""
        in_flow = conv.state in (State.QUESTION, State.RESUME)
        if not in_flow or self._idle_for(conv, now) < self.inactivity_expiry:
            return None
        conv.clear_questionnaire()
        conv.state = State.MENU
        return self._reprompt(conv, self.content.catalog(conv.language).render("expired"))


WAITING_ENDED = "waiting_ended"


def _most_urgent(a: str | None, b: str) -> str:
    order = ("imminent", "high", "moderate", "routine")
    if a is None or a not in order:
        return b
    return a if order.index(a) <= order.index(b) else b


def _crisis_signal(crisis: CrisisMatch, msg: Inbound) -> RaiseSignal:
    return RaiseSignal(
        source="free_text",
        rule_id=f"text.{crisis.pattern_id}",
        priority=crisis.priority,
        reason=crisis.category,
        detail={"matched": crisis.matched, "message": msg.text[:1000]},
    )


def _talk_request(content: Content, origin: str) -> RaiseSignal:
    return RaiseSignal(
        source="request",
        rule_id="request.talk_to_psychologist",
        priority=content.priorities.priority_of("talk_to_psychologist", "routine"),
        reason="asked to talk to a psychologist",
        detail={"origin": origin},
    )
