"""User-visible text: the message catalogue per language (``config/messages/<lang>.yaml``)."""

from __future__ import annotations

import string
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bot.content.yamlio import load_yaml
from bot.instruments.schema import LANGUAGES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Keywords(_Strict):
    menu: list[str]
    help: list[str]
    stop: list[str]
    delete: list[str]
    back: list[str]
    repeat: list[str]
    start: list[str]
    # "continue" is a Python keyword, so the attribute is ``continue_``.
    continue_: list[str] = Field(alias="continue")
    yes: list[str]
    no: list[str]
    #: Answers to the check question that are neither yes nor no ("no sé", "a veces"):
    #: treated as yes, as a clinician would.
    unsure: list[str] = Field(min_length=1)
    #: Declining to answer ("prefiero no responder"): also treated as yes.
    decline: list[str] = Field(min_length=1)
    #: Replies that start like a "no" but are not one ("no entiendo"): asked again.
    unclear: list[str] = Field(min_length=1)
    #: Words that ask when a psychologist will write (matched inside the message).
    when: list[str] = Field(default_factory=list)
    #: After STOP only these start again (the word the stop message names).
    restart: list[str] = Field(default_factory=list)
    #: Asks for all the helplines.
    lines: list[str] = Field(default_factory=list)


class Choices(_Strict):
    yes: str
    no: str
    consent_yes: str
    consent_no: str
    continue_: str = Field(alias="continue")
    menu: str
    delete_yes: str
    delete_no: str
    lang_es: str
    lang_en: str
    decline: str


class MenuOptions(_Strict):
    depression: str
    anxiety: str
    full: str
    cssrs: str
    talk: str
    resources: str
    delete: str
    stop: str


class Catalog(_Strict):
    """One language's texts. ``text`` templates use ``{name}`` placeholders."""

    language: str
    language_name: str
    consent_version: str
    keywords: Keywords
    choices: Choices
    menu_options: MenuOptions
    text: dict[str, str]

    def render(self, key: str, **values: object) -> str:
        return self.text[key].format(**values)


REQUIRED_TEXT = (
    "welcome",
    "consent",
    "consent_refused",
    "language",
    "menu",
    "instrument_intro",
    "question",
    "question_extra",
    "back_changing",
    "invalid_answer",
    "invalid_choice",
    "stale_button",
    "first_question",
    "result_total",
    "result_category",
    "result_disclaimer",
    "gate_positive",
    "gate_negative",
    "full_check_intro",
    "full_check_done",
    "referral_offer",
    "referral_accepted",
    "referral_declined",
    "talk_requested",
    "safety",
    "crisis_detected",
    "acuity_followup_yes",
    "acuity_followup_no",
    "resume_after_crisis",
    "resources",
    "help",
    "stopped",
    "stopped_notice",
    "restarted",
    "delete_confirm",
    "deleted",
    "delete_cancelled",
    "resume_offer",
    "expired",
    "unsupported",
    "unknown_command",
    "too_long",
    "waiting_started",
    "waiting_started_request",
    "waiting_prompt",
    "waiting_choice_plan",
    "waiting_choice_lines",
    "waiting_reply",
    "waiting_when",
    "waiting_when_request",
    "waiting_when_late",
    "waiting_within_minutes",
    "waiting_within_hours",
    "waiting_within_days",
    "waiting_choice_menu",
    "waiting_left",
    "waiting_no_questionnaire",
    "waiting_lines",
    "waiting_checkin",
    "waiting_no_ack",
    "waiting_over",
    "plan_intro",
    "plan_step_1",
    "plan_step_2",
    "plan_step_3",
    "plan_step_4",
    "plan_step_5",
    "plan_step_6",
    "plan_done",
    "plan_skipped",
    "check_question",
    "check_question_other",
    "check_again",
    "check_no",
    "crisis_third_party",
    "crisis_self_harm",
)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def load_catalogs(directory: Path) -> dict[str, Catalog]:
    """Load every language; raise ``ValueError`` naming the file and key on a problem."""
    catalogs: dict[str, Catalog] = {}
    for lang in LANGUAGES:
        path = directory / f"{lang}.yaml"
        if not path.is_file():
            raise ValueError(f"{path}: missing (every language needs a message file)")
        data = load_yaml(path)
        catalog = Catalog.model_validate(data)
        missing = [key for key in REQUIRED_TEXT if key not in catalog.text]
        if missing:
            raise ValueError(f"{path.name}: text: missing key(s) {missing}")
        if catalog.language != lang:
            raise ValueError(f"{path.name}: language: is {catalog.language!r}, expected {lang!r}")
        catalogs[lang] = catalog
    reference = catalogs[LANGUAGES[0]]
    for lang, catalog in catalogs.items():
        if set(catalog.text) != set(reference.text):
            diff = sorted(set(catalog.text) ^ set(reference.text))
            raise ValueError(f"{lang}.yaml: text: keys differ from {reference.language}: {diff}")
        for key, template in catalog.text.items():
            if placeholders(template) != placeholders(reference.text[key]):
                expected = sorted(placeholders(reference.text[key]))
                raise ValueError(
                    f"{lang}.yaml: text.{key}: placeholders {sorted(placeholders(template))} "
                    f"differ from {reference.language}.yaml {expected}"
                )
    return catalogs
