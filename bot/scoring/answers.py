"""Answers: a mapping of item id to the chosen option code, e.g. ``{"phq9_1": "2"}``."""

from __future__ import annotations

from collections.abc import Mapping

from bot.instruments.schema import Instrument, Item, Option

__all__ = ["Answers", "check_answers", "option_of"]

Answers = Mapping[str, str]


def option_of(instrument: Instrument, item: Item, code: str) -> Option:
    """The option of ``item`` whose code is ``code``; ``ValueError`` if there is none."""
    for option in instrument.options_for(item):
        if option.code == code:
            return option
    codes = [o.code for o in instrument.options_for(item)]
    raise ValueError(
        f"{instrument.id}: {code!r} is not an option of item {item.id} (options: {codes})"
    )


def check_answers(instrument: Instrument, answers: Answers) -> None:
    """Every answer names an item of the instrument and one of that item's option codes."""
    for item_id, code in answers.items():
        try:
            item = instrument.item(item_id)
        except KeyError:
            raise ValueError(f"{instrument.id}: there is no item {item_id!r}") from None
        option_of(instrument, item, code)
