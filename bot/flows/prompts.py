"""What the engine asks in each state: the text and the choices offered with it."""

from __future__ import annotations

from bot.content import Catalog, Content
from bot.flows.state import ConvState, State
from bot.instruments.schema import Instrument, Item
from bot.outbox.reply import Choice, Reply

MENU_ACTIONS = (
    "depression",
    "anxiety",
    "full",
    "cssrs",
    "talk",
    "resources",
    "delete",
    "stop",
)


def yes_no(catalog: Catalog, prefix: str, yes_label: str, no_label: str) -> tuple[Choice, ...]:
    return (
        Choice(key="1", label=yes_label, payload=f"{prefix}:yes"),
        Choice(key="2", label=no_label, payload=f"{prefix}:no"),
    )


def yes_no_aliases(catalog: Catalog, prefix: str) -> dict[str, list[str]]:
    return {f"{prefix}:yes": catalog.keywords.yes, f"{prefix}:no": catalog.keywords.no}


def menu_choices(catalog: Catalog) -> tuple[Choice, ...]:
    labels = catalog.menu_options
    return tuple(
        Choice(key=str(n), label=getattr(labels, action), payload=f"menu:{action}")
        for n, action in enumerate(MENU_ACTIONS, start=1)
    )


def language_choices(catalog: Catalog) -> tuple[Choice, ...]:
    return (
        Choice(key="1", label=catalog.choices.lang_es, payload="lang:es"),
        Choice(key="2", label=catalog.choices.lang_en, payload="lang:en"),
    )


def option_choices(instrument: Instrument, item: Item, lang: str) -> tuple[Choice, ...]:
    return tuple(
        Choice(key=o.typed_key, label=o.label.get(lang), payload=f"ans:{item.id}:{o.code}")
        for o in instrument.options_for(item)
    )


#: The old numbering of yes/no items (0 = No) is still understood where no option uses it.
OLD_NO_KEY = "0"


def option_aliases(
    catalog: Catalog, item: Item, instrument: Instrument | None = None, prefix: str = ""
) -> dict[str, list[str]]:
    """Lets "sí"/"no"/"yes"/"prefiero no responder" answer yes/no items, and the old "0" mean
    No where no option is numbered 0."""
    prefix = prefix or f"ans:{item.id}"
    no_words = list(catalog.keywords.no)
    if instrument is not None:
        keys = {o.typed_key for o in instrument.options_for(item)}
        if OLD_NO_KEY not in keys:
            no_words.append(OLD_NO_KEY)
    return {
        f"{prefix}:yes": catalog.keywords.yes,
        f"{prefix}:no": no_words,
        f"{prefix}:decline": catalog.keywords.decline,
    }


def question(content: Content, conv: ConvState) -> Reply:
    catalog = content.catalog(conv.language)
    instrument = content.instruments[conv.instrument_id or ""]
    item = instrument.item(conv.item_id or "")
    timeframe = instrument.timeframe.get(conv.language)
    if item.ask_if is not None:
        # A conditional question: "one more question", so that the count never jumps.
        text = catalog.render(
            "question_extra", timeframe=timeframe, text=item.text.get(conv.language)
        )
    else:
        position, count = fixed_progress(instrument, conv.answers)
        text = catalog.render(
            "question",
            position=position,
            count=count,
            timeframe=timeframe,
            text=item.text.get(conv.language),
        )
    return Reply(text=text, choices=option_choices(instrument, item, conv.language))


def fixed_progress(instrument: Instrument, answers: dict[str, str]) -> tuple[int, int]:
    """``(position, count)`` over the questions always asked (those without ``ask_if``):
    the count is known from the first question and never changes."""
    always = [i.id for i in instrument.items if i.ask_if is None]
    done = sum(1 for i in always if i in answers)
    return min(done + 1, len(always)), len(always)


def acuity_question(content: Content, conv: ConvState) -> Reply:
    instrument = content.instruments[content.flows.acuity_instrument]
    item = instrument.item(content.flows.acuity_item)
    choices = tuple(
        Choice(key=o.typed_key, label=o.label.get(conv.language), payload=f"acuity:{o.code}")
        for o in instrument.options_for(item)
    )
    return Reply(text=item.text.get(conv.language), choices=choices)


def check_question(catalog: Catalog, conv: ConvState) -> Reply:
    """The detector's check question, about the person or about whom they wrote of."""
    about = conv.context.get("check", {}).get("about", "self")
    c = catalog.choices
    choices = (
        Choice(key="1", label=c.yes, payload="check:yes"),
        Choice(key="2", label=c.no, payload="check:no"),
        Choice(key="3", label=c.decline, payload="check:decline"),
    )
    key = "check_question_other" if about == "other" else "check_question"
    return Reply(catalog.render(key), choices)


def current_choices(content: Content, conv: ConvState) -> tuple[Choice, ...]:
    return prompt(content, conv).choices


def prompt(content: Content, conv: ConvState) -> Reply:
    """The question the person is being asked now (used to re-ask after anything else)."""
    catalog = content.catalog(conv.language)
    c = catalog.choices
    match conv.state:
        case State.CONSENT:
            return Reply(
                catalog.render("consent"), yes_no(catalog, "consent", c.consent_yes, c.consent_no)
            )
        case State.LANGUAGE:
            return Reply(catalog.render("language"), language_choices(catalog))
        case State.QUESTION:
            return question(content, conv)
        case State.RESUME:
            instrument = content.instruments[conv.instrument_id or ""]
            position, count = fixed_progress(instrument, conv.answers)
            text = catalog.render(
                "resume_offer",
                name=instrument.short_name.get(conv.language),
                position=position,
                count=count,
            )
            return Reply(text, yes_no(catalog, "resume", c.continue_, c.menu))
        case State.REFERRAL:
            return Reply(catalog.render("referral_offer"), yes_no(catalog, "referral", c.yes, c.no))
        case State.CONFIRM_DELETE:
            return Reply(
                catalog.render("delete_confirm"),
                yes_no(catalog, "delete", c.delete_yes, c.delete_no),
            )
        case State.ACUITY:
            return acuity_question(content, conv)
        case State.CHECK:
            return check_question(catalog, conv)
        case State.STOPPED:
            return Reply(catalog.render("stopped_notice"))
        case State.WAITING | State.SAFETY_PLAN:
            from bot.flows import waiting  # (a cycle: waiting builds its prompt from here)

            return waiting.prompt(content, conv)
        case _:
            return Reply(catalog.render("menu"), menu_choices(catalog))


def aliases_for(content: Content, conv: ConvState) -> dict[str, list[str]]:
    catalog = content.catalog(conv.language)
    match conv.state:
        case State.CONSENT | State.RESUME | State.REFERRAL | State.CONFIRM_DELETE:
            prefix = {
                State.CONSENT: "consent",
                State.RESUME: "resume",
                State.REFERRAL: "referral",
                State.CONFIRM_DELETE: "delete",
            }[conv.state]
            aliases = yes_no_aliases(catalog, prefix)
            if conv.state is State.RESUME:
                aliases["resume:yes"] = [*catalog.keywords.yes, *catalog.keywords.continue_]
                aliases["resume:no"] = [*catalog.keywords.no, *catalog.keywords.menu]
            return aliases
        case State.QUESTION:
            instrument = content.instruments[conv.instrument_id or ""]
            item = instrument.item(conv.item_id or "")
            return option_aliases(catalog, item, instrument)
        case State.ACUITY:
            instrument = content.instruments[content.flows.acuity_instrument]
            item = instrument.item(content.flows.acuity_item)
            return option_aliases(catalog, item, instrument, prefix="acuity")
        case State.CHECK:
            kw = catalog.keywords
            return {
                "check:yes": [*kw.yes, *kw.unsure],
                "check:no": kw.no,
                "check:decline": kw.decline,
            }
        case State.LANGUAGE:
            return {"lang:es": ["es", "espanol", "castellano"], "lang:en": ["en", "ingles"]}
        case _:
            return {}
