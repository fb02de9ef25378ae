"""The conversation engine: one inbound message in, replies and effects out.

Plain Python: no database, no channel, no web framework. ``bot.flows.service`` loads the
state, calls :meth:`Engine.step` and saves the result in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.content import Content
from bot.flows import concern, prompts, safety_plan, screening, waiting
from bot.flows.concern import Concern, ConcernDetector
from bot.flows.matching import command_of, is_free_text, is_keyword, match_choice
from bot.flows.state import ConvState, State, Step
from bot.flows.types import (
    DeleteData,
    ForgetMessages,
    Inbound,
    NoteForReview,
    RaiseSignal,
    RecordConsent,
    SetOptOut,
)
from bot.outbox.enums import Purpose
from bot.outbox.reply import Reply

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
        detect_concern: ConcernDetector = concern.no_concern,
        expect_minutes: waiting.ExpectMinutes = waiting.default_expect_minutes,
    ) -> None:
        self.content = content
        self.expect_minutes = expect_minutes
        self.inactivity_expiry = inactivity_expiry
        self.resume_after = timedelta(minutes=content.flows.resume_prompt_after_minutes)
        self.detect_crisis = detect_crisis
        self.detect_concern = detect_concern

    # --- entry point ------------------------------------------------------------------------

    def step(self, conv: ConvState, msg: Inbound, now: datetime) -> Step:
        ended = conv.context.pop(WAITING_ENDED, False)
        text = msg.text if msg.kind == "text" and len(msg.text) <= MAX_ANSWER_LENGTH else ""
        crisis = self.detect_crisis(msg.text) if msg.kind == "text" and msg.text else None
        if crisis is not None:
            step = self._crisis(conv, msg, crisis)
        elif conv.state is State.CHECK and text:
            step = self._check_answer(conv, msg, now)
        else:
            found = self.detect_concern(text) if text else None
            if found is not None and self._should_ask(conv, msg, found, now):
                step = concern.ask(self.content, conv, found, text)
            else:
                step = self._route(conv, msg, now, found)
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
            step.effects.append(_crisis_signal(crisis, msg, answer_to_check=False))
            crisis_lines = self.content.resources.first_lines_text(conv.language)
            catalog = self.content.catalog(conv.language)
            step.say(
                catalog.render("crisis_detected", crisis_lines=crisis_lines), purpose=Purpose.CRISIS
            )
        return step

    # --- routing ------------------------------------------------------------------------

    def _route(
        self, conv: ConvState, msg: Inbound, now: datetime, found: Concern | None = None
    ) -> Step:
        """``found``: the detector's (unasked) concern about the message, if any."""
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
        return self._in_state(conv, text, msg.payload, now, found)

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

    def _in_state(
        self,
        conv: ConvState,
        text: str,
        payload: str | None,
        now: datetime,
        found: Concern | None = None,
    ) -> Step:
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
            step = self._reprompt(conv, catalog.render(key))
            if payload is None and is_free_text(text):
                # Words the bot did not understand: kept (with consent) for staff to label.
                score = round(found.score, 3) if found else None
                category = found.category if found else None
                step.effects.append(NoteForReview("unrecognised", category, score))
            return step
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
            return self._referral(conv, accepted=value == "yes", now=now)
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
            return self._talk(conv, "menu", catalog.render("talk_requested"), now)
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

    def _referral(self, conv: ConvState, *, accepted: bool, now: datetime) -> Step:
        catalog = self.content.catalog(conv.language)
        conv.state = State.MENU
        if not accepted:
            return self._reprompt(conv, catalog.render("referral_declined"))
        return self._talk(conv, "referral_offer", catalog.render("referral_accepted"), now)

    def _talk(self, conv: ConvState, origin: str, said: str, now: datetime) -> Step:
        """The person asked for a psychologist: the request is raised and they wait with us
        (on request: at a lower priority they may go back to the menu)."""
        step = Step()
        step.say(said)
        request = _talk_request(self.content, origin)
        step.effects.append(request)
        minutes = self.expect_minutes(request.priority, now)
        waiting.enter(self.content, conv, step, request.priority, now, minutes)
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

    def _crisis(
        self, conv: ConvState, msg: Inbound, crisis: CrisisMatch, answer_to_check: bool = False
    ) -> Step:
        """Crisis words in any state: safe reply, crisis lines, a signal, the safety question
        (for a report about someone else: words for the helper, and no question)."""
        catalog = self.content.catalog(conv.language)
        step = Step()
        if conv.state is State.CHECK:
            previous, _about, withdraw = concern.settle(conv)
            conv.state = previous
            step.effects.append(withdraw)
        step.effects.append(_crisis_signal(crisis, msg, answer_to_check))
        crisis_lines = self.content.resources.first_lines_text(conv.language)
        reply = CRISIS_REPLIES.get(crisis.category, "crisis_detected")
        step.say(catalog.render(reply, crisis_lines=crisis_lines), purpose=Purpose.CRISIS)
        if conv.state in waiting.WAITING_STATES and crisis.category not in concern.THIRD_PARTY:
            waiting.no_way_back(conv)  # waiting on request is now waiting after a disclosure
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
        if crisis.category in concern.THIRD_PARTY:
            if conv.state is State.QUESTION and conv.instrument_id:
                conv.state = State.RESUME  # their next message is offered the questions back
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

    # --- the check question (the detector is unsure: bot.flows.concern) ----------------------

    def _should_ask(self, conv: ConvState, msg: Inbound, found: Concern, now: datetime) -> bool:
        """Ask unless the message is a command or an answer to what was asked, or the
        state is one where it is not asked. A concern below the unsure threshold
        (``unrecognised_only``) is asked only in a questionnaire."""
        if not concern.may_ask(conv, now) or msg.payload is not None:
            return False
        if found.unrecognised_only and conv.state is not State.QUESTION:
            return False
        text = msg.text
        if command_of(text) is not None or self._is_keyword(conv, text):
            return False
        choices = prompts.current_choices(self.content, conv)
        return match_choice(text, choices, prompts.aliases_for(self.content, conv)) is None

    def _is_keyword(self, conv: ConvState, text: str) -> bool:
        words: list[str] = []
        for lang in ("es", "en"):
            kw = self.content.catalog(lang).keywords
            words += [*kw.menu, *kw.help, *kw.stop, *kw.delete, *kw.back, *kw.repeat]
            words += [*kw.start, *kw.continue_]
        return is_keyword(text, words)

    def _check_answer(self, conv: ConvState, msg: Inbound, now: datetime) -> Step:
        catalog = self.content.catalog(conv.language)
        text = msg.text
        if msg.payload is None:
            global_step = self._global(conv, text, command_of(text), None, now)
            if global_step is not None:
                if conv.state is not State.CHECK:
                    # Left without answering: the held signal stays and acts on its time.
                    conv.context.pop("check", None)
                    conv.context.pop("after_check", None)
                return global_step
        worrying = self.detect_concern(text) is not None
        answer = concern.read_answer(self.content, conv, text, msg.payload, worrying)
        if answer == "unclear" and not concern.count_unclear(conv):
            return self._reprompt(conv, catalog.render("check_again"))
        message = str(conv.context.get("check", {}).get("message", ""))
        previous, about, withdraw = concern.settle(conv)
        conv.state = previous
        if answer == "no":
            conv.context["check_no_at"] = now.isoformat()
            step = self._reprompt(conv, catalog.render("check_no"))
            step.effects.insert(0, withdraw)
            return step
        # "sí", declined, ambivalent, worrying, or unclear twice: as crisis words would be.
        match = CrisisMatch(
            category="third_party" if about == "other" else concern.CHECK_YES_RULE,
            priority=self.content.priorities.priority_of(
                concern.CHECK_YES_RULE, concern.CHECK_PRIORITY
            ),
            pattern_id=concern.CHECK_YES_RULE,
            matched=message or text[:200],
        )
        step = self._crisis(conv, msg, match, answer_to_check=True)
        step.effects.insert(0, withdraw)
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


#: Replies for kinds of message where the first-person crisis reply would be wrong.
CRISIS_REPLIES = {
    "third_party": "crisis_third_party",
    "third_party_emergency": "crisis_third_party",
    "self_harm": "crisis_self_harm",
}


def _crisis_signal(crisis: CrisisMatch, msg: Inbound, answer_to_check: bool) -> RaiseSignal:
    """``answer_to_check``: ``msg`` answers the check question; the message quoted to the
    psychologist is the one that raised it (``crisis.matched``), with this answer."""
    detail: dict[str, str] = {"matched": crisis.matched, "message": msg.text[:1000]}
    if answer_to_check:
        detail = {"matched": crisis.matched, "message": crisis.matched, "answer": msg.text[:200]}
    return RaiseSignal(
        source="free_text",
        rule_id=f"text.{crisis.pattern_id}",
        priority=crisis.priority,
        reason=crisis.category,
        detail=detail,
    )


def _talk_request(content: Content, origin: str) -> RaiseSignal:
    return RaiseSignal(
        source="request",
        rule_id="request.talk_to_psychologist",
        priority=content.priorities.priority_of("talk_to_psychologist", "routine"),
        reason="asked to talk to a psychologist",
        detail={"origin": origin},
    )
