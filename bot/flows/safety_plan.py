"""A brief safety plan built in the chat while waiting (state ``SAFETY_PLAN``).

The six steps of the Safety Planning Intervention (Stanley B, Brown GK. Cogn Behav Pract
2012;19(2):256-264; care.md section 1), in the person's own words: warning signs, things
that help, people and places that distract, people to ask for help, professionals and crisis
lines (ours are shown), and making the surroundings safer with means-safety advice. A step can
be skipped (PASO / SKIP or "prefiero no responder"). The plan is saved (``SaveSafetyPlan``)
and shown to the psychologist on the case page.
"""

from __future__ import annotations

from bot.content import Content
from bot.flows.matching import is_keyword
from bot.flows.state import ConvState, State, Step
from bot.flows.types import SaveSafetyPlan
from bot.outbox.reply import Reply

STEPS: tuple[str, ...] = (
    "warning_signs",
    "coping",
    "distraction",
    "people_to_ask",
    "professionals",
    "safe_environment",
)
KEY = "safety_plan"
#: Longest answer kept for one step.
MAX_STEP = 500
SKIP_WORDS = ("paso", "saltar", "skip", "pass")


def start(content: Content, conv: ConvState) -> Step:
    conv.state = State.SAFETY_PLAN
    conv.context[KEY] = {"at": 0, "steps": {}}
    step = Step()
    step.say(content.catalog(conv.language).render("plan_intro"))
    step.replies.append(prompt(content, conv))
    return step


def prompt(content: Content, conv: ConvState) -> Reply:
    catalog = content.catalog(conv.language)
    at = int((conv.context.get(KEY) or {}).get("at", 0))
    lines = content.resources.crisis_lines_text(conv.language)
    return Reply(catalog.render(f"plan_step_{at + 1}", crisis_lines=lines))


def answer(content: Content, conv: ConvState, text: str, payload: str | None) -> Step:
    catalog = content.catalog(conv.language)
    plan = dict(conv.context.get(KEY) or {"at": 0, "steps": {}})
    at = int(plan.get("at", 0))
    steps = dict(plan.get("steps") or {})
    skipped = payload is not None or is_keyword(
        text, [*SKIP_WORDS, *catalog.keywords.decline, *catalog.keywords.no]
    )
    steps[STEPS[at]] = "" if skipped else text.strip()[:MAX_STEP]
    at += 1
    step = Step()
    if at < len(STEPS):
        conv.context[KEY] = {"at": at, "steps": steps}
        step.replies.append(prompt(content, conv))
        return step
    conv.context.pop(KEY, None)
    conv.state = State.WAITING
    step.effects.append(SaveSafetyPlan(steps=steps))
    shown = "\n".join(
        f"{n}. {steps.get(key) or catalog.render('plan_skipped')}"
        for n, key in enumerate(STEPS, start=1)
    )
    step.say(catalog.render("plan_done", plan=shown))
    from bot.flows import waiting  # the waiting prompt follows (imported late: a cycle)

    step.replies.append(waiting.prompt(content, conv))
    return step
