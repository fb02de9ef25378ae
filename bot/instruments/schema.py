"""The schema of an instrument file in ``config/instruments/``.

An instrument is data: its wording, options, scoring rule, bands and risk rules all come
from the file, and this schema is what makes a broken file fail at start-up with the file,
the field and the reason. Unknown keys are rejected everywhere.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LANGUAGES: tuple[str, ...] = ("es", "en")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Priority(StrEnum):
    """Case priority, most urgent first. ``rank`` orders them."""

    IMMINENT = "imminent"
    HIGH = "high"
    MODERATE = "moderate"
    ROUTINE = "routine"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {
    Priority.IMMINENT: 4,
    Priority.HIGH: 3,
    Priority.MODERATE: 2,
    Priority.ROUTINE: 1,
}


class Text(Strict):
    """One user-visible string in every supported language."""

    es: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.es


#: The languages an instrument can be translated into (each entry says whether it is validated).
TranslationLanguage = Literal["es", "en"]


class Translation(Strict):
    """Whether a language's wording is the published, validated text."""

    validated: bool
    source: str = Field(min_length=1)


class Loinc(Strict):
    panel: str | None = None
    total: str | None = None
    result: str | None = None


class Option(Strict):
    """One answer option. ``code`` is stored; ``value`` is scored; ``key`` is typed."""

    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    value: int | None
    label: Text
    key: str | None = Field(default=None, pattern=r"^[0-9]$")
    loinc: str | None = None

    @property
    def typed_key(self) -> str:
        """The number the person types (and sees printed) for this option."""
        if self.key is not None:
            return self.key
        if self.value is None:
            raise ValueError(f"option {self.code!r} has no value and no key")
        return str(self.value)


# --- conditions (branching and rules) -------------------------------------------------


class ItemIs(Strict):
    """True when ``item`` was answered with one of the option codes in ``in_``."""

    item: str
    in_: list[str] = Field(alias="in", min_length=1)


class ItemAtLeast(Strict):
    """True when ``item`` was answered with an option whose value is at least ``gte``."""

    item: str
    gte: int


class TotalAtLeast(Strict):
    total_gte: int


class ResultIs(Strict):
    """True when the instrument's categorical result is one of ``result_in``."""

    result_in: list[str] = Field(min_length=1)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1)


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1)


class NoneOf(Strict):
    none: list[Condition] = Field(min_length=1)


Condition = Annotated[
    ItemIs | ItemAtLeast | TotalAtLeast | ResultIs | AnyOf | AllOf | NoneOf,
    Field(union_mode="left_to_right"),
]
AnyOf.model_rebuild()
AllOf.model_rebuild()
NoneOf.model_rebuild()


def condition_items(cond: Condition) -> set[str]:
    """Every item id a condition refers to."""
    if isinstance(cond, ItemIs | ItemAtLeast):
        return {cond.item}
    if isinstance(cond, AnyOf):
        return set().union(*(condition_items(c) for c in cond.any))
    if isinstance(cond, AllOf):
        return set().union(*(condition_items(c) for c in cond.all))
    if isinstance(cond, NoneOf):
        return set().union(*(condition_items(c) for c in cond.none))
    return set()


def condition_uses(cond: Condition, kind: type) -> bool:
    if isinstance(cond, kind):
        return True
    if isinstance(cond, AnyOf):
        return any(condition_uses(c, kind) for c in cond.any)
    if isinstance(cond, AllOf):
        return any(condition_uses(c, kind) for c in cond.all)
    if isinstance(cond, NoneOf):
        return any(condition_uses(c, kind) for c in cond.none)
    return False


# --- items, scoring, bands, results, rules ---------------------------------------------


class Item(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    text: Text
    options: str = Field(description="name of an entry in option_sets")
    loinc: str | None = None
    scored: bool = True
    ask_if: Condition | None = None


class Band(Strict):
    """A total-score band. ``min`` and ``max`` are inclusive."""

    min: int
    max: int
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    label: Text
    action: Text
    positive: bool = False
    referral: bool = False


class Result(Strict):
    """A categorical result (ASQ, C-SSRS). The first result whose ``when`` holds wins;
    the one without ``when`` is the default."""

    code: str = Field(pattern=r"^[a-z0-9_]+$")
    when: Condition | None = None
    label: Text
    action: Text
    positive: bool = False
    referral: bool = False


class RiskRule(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    when: Condition
    priority: Priority
    flag: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = Field(min_length=1)


class Scoring(Strict):
    method: Literal["sum", "categorical"]
    note: str | None = None


class Instrument(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    short_name: Text
    version: str
    citation: str
    source: str
    licence: str
    notes: list[str] = Field(default_factory=list)
    loinc: Loinc = Field(default_factory=Loinc)
    translations: dict[TranslationLanguage, Translation]
    timeframe: Text
    option_sets: dict[str, list[Option]]
    items: list[Item] = Field(min_length=1)
    scoring: Scoring
    bands: list[Band] = Field(default_factory=list)
    results: list[Result] = Field(default_factory=list)
    risk_rules: list[RiskRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Instrument:
        missing = set(LANGUAGES) - set(self.translations)
        if missing:
            raise ValueError(f"translations: missing language(s) {sorted(missing)}")
        self._check_options()
        item_ids = self._check_items()
        if self.scoring.method == "sum":
            self._check_bands()
            if self.results:
                raise ValueError("results: only for scoring.method 'categorical'")
        else:
            self._check_results(item_ids)
            if self.bands:
                raise ValueError("bands: only for scoring.method 'sum'")
        self._check_rules(item_ids)
        return self

    def _check_options(self) -> None:
        for name, options in self.option_sets.items():
            if not options:
                raise ValueError(f"option_sets.{name}: no options")
            codes = [o.code for o in options]
            if len(set(codes)) != len(codes):
                raise ValueError(f"option_sets.{name}: duplicate option codes {codes}")
            unkeyed = [o.code for o in options if o.key is None and o.value is None]
            if unkeyed:
                raise ValueError(
                    f"option_sets.{name}: option(s) {unkeyed} have no value and no key, "
                    "so there is no number to type"
                )
            keys = [o.typed_key for o in options]
            if len(set(keys)) != len(keys):
                raise ValueError(f"option_sets.{name}: two options share the typed number {keys}")

    def _check_items(self) -> set[str]:
        ids: list[str] = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"items: duplicate ids {ids}")
        seen: set[str] = set()
        for item in self.items:
            if item.options not in self.option_sets:
                raise ValueError(f"items.{item.id}.options: no option set {item.options!r}")
            options = self.option_sets[item.options]
            if (
                self.scoring.method == "sum"
                and item.scored
                and any(o.value is None for o in options)
            ):
                raise ValueError(f"items.{item.id}: a summed item needs a value on every option")
            if item.ask_if is not None:
                refs = condition_items(item.ask_if)
                unknown = refs - set(ids)
                if unknown:
                    raise ValueError(f"items.{item.id}.ask_if: unknown item(s) {sorted(unknown)}")
                later = refs - seen
                if later:
                    raise ValueError(
                        f"items.{item.id}.ask_if: refers to item(s) {sorted(later)} "
                        "that are not asked before it"
                    )
                self._check_codes(item.ask_if, f"items.{item.id}.ask_if")
                for kind in (TotalAtLeast, ResultIs):
                    if condition_uses(item.ask_if, kind):
                        raise ValueError(
                            f"items.{item.id}.ask_if: {kind.__name__} is not known while "
                            "questions are still being asked; use item conditions"
                        )
            seen.add(item.id)
        return set(ids)

    def _check_codes(self, cond: Condition, where: str) -> None:
        if isinstance(cond, ItemAtLeast):
            item = self.item(cond.item)
            values = [o.value for o in self.option_sets[item.options] if o.value is not None]
            if not values or max(values) < cond.gte:
                raise ValueError(
                    f"{where}: item {cond.item} has no option with a value >= {cond.gte}, "
                    "so the condition can never hold"
                )
        if isinstance(cond, ItemIs):
            item = self.item(cond.item)
            codes = {o.code for o in self.option_sets[item.options]}
            bad = set(cond.in_) - codes
            if bad:
                raise ValueError(f"{where}: item {cond.item} has no option code(s) {sorted(bad)}")
        for sub in getattr(cond, "any", None) or getattr(cond, "all", None) or []:
            self._check_codes(sub, where)
        for sub in getattr(cond, "none", None) or []:
            self._check_codes(sub, where)

    @property
    def total_range(self) -> tuple[int, int]:
        """The smallest and largest possible total of the scored items."""
        low = high = 0
        for item in self.items:
            if not item.scored:
                continue
            values = [o.value for o in self.option_sets[item.options] if o.value is not None]
            if not values:
                continue
            low += min(values)
            high += max(values)
        return low, high

    def _check_bands(self) -> None:
        if not self.bands:
            raise ValueError("bands: a summed instrument needs severity bands")
        low, high = self.total_range
        codes = [b.code for b in self.bands]
        if len(set(codes)) != len(codes):
            raise ValueError(f"bands: duplicate codes {codes}")
        bands = sorted(self.bands, key=lambda b: b.min)
        if bands[0].min != low:
            raise ValueError(f"bands: the first band starts at {bands[0].min}, not at {low}")
        expected = low
        for band in bands:
            if band.min > band.max:
                raise ValueError(f"bands.{band.code}: min {band.min} is above max {band.max}")
            if band.min > expected:
                raise ValueError(f"bands: gap, no band covers {expected}..{band.min - 1}")
            if band.min < expected:
                raise ValueError(f"bands.{band.code}: overlaps the band before it at {band.min}")
            expected = band.max + 1
        if expected - 1 != high:
            raise ValueError(f"bands: the last band ends at {expected - 1}, not at {high}")

    def _check_results(self, item_ids: set[str]) -> None:
        if not self.results:
            raise ValueError("results: a categorical instrument needs results")
        defaults = [r for r in self.results if r.when is None]
        if len(defaults) != 1 or self.results[-1].when is not None:
            raise ValueError("results: exactly one result, the last, must have no 'when'")
        codes = [r.code for r in self.results]
        if len(set(codes)) != len(codes):
            raise ValueError(f"results: duplicate codes {codes}")
        for result in self.results:
            if result.when is not None:
                for kind in (TotalAtLeast, ResultIs):
                    if condition_uses(result.when, kind):
                        raise ValueError(
                            f"results.{result.code}.when: {kind.__name__} is not allowed in a "
                            "result; use item conditions"
                        )
                unknown = condition_items(result.when) - item_ids
                if unknown:
                    raise ValueError(
                        f"results.{result.code}.when: unknown item(s) {sorted(unknown)}"
                    )
                self._check_codes(result.when, f"results.{result.code}.when")

    def _check_rules(self, item_ids: set[str]) -> None:
        result_codes = {r.code for r in self.results}
        ids = [r.id for r in self.risk_rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"risk_rules: duplicate ids {ids}")
        for rule in self.risk_rules:
            where = f"risk_rules.{rule.id}.when"
            unknown = condition_items(rule.when) - item_ids
            if unknown:
                raise ValueError(f"{where}: unknown item(s) {sorted(unknown)}")
            self._check_codes(rule.when, where)
            if condition_uses(rule.when, TotalAtLeast) and self.scoring.method != "sum":
                raise ValueError(f"{where}: total_gte needs scoring.method 'sum'")
            self._check_result_refs(rule.when, result_codes, where)
            self._check_totals(rule.when, where)

    def _check_totals(self, cond: Condition, where: str) -> None:
        if isinstance(cond, TotalAtLeast):
            high = self.total_range[1]
            if cond.total_gte > high:
                raise ValueError(
                    f"{where}: total_gte {cond.total_gte} is above the maximum total {high}"
                )
        for sub in (
            getattr(cond, "any", None) or getattr(cond, "all", None) or getattr(cond, "none", None)
        ) or []:
            self._check_totals(sub, where)

    def _check_result_refs(self, cond: Condition, codes: set[str], where: str) -> None:
        if isinstance(cond, ResultIs):
            bad = set(cond.result_in) - codes
            if bad:
                raise ValueError(f"{where}: no result(s) {sorted(bad)}")
        for sub in (
            getattr(cond, "any", None) or getattr(cond, "all", None) or getattr(cond, "none", None)
        ) or []:
            self._check_result_refs(sub, codes, where)

    # --- lookups used by the engine ---

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def options_for(self, item: Item) -> list[Option]:
        return self.option_sets[item.options]

    @property
    def unvalidated_languages(self) -> list[TranslationLanguage]:
        return [lang for lang, t in self.translations.items() if not t.validated]
