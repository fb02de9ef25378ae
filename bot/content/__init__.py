"""Everything user-visible or clinical that lives in ``config/``, loaded and validated once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from bot.content.flows import FlowConfig, load_flow_config
from bot.content.messages import Catalog, load_catalogs
from bot.content.priorities import PriorityTable, load_priorities
from bot.content.resources import Resources, load_resources
from bot.instruments.loader import InstrumentError, load_instruments, validation_warnings
from bot.instruments.schema import Instrument

__all__ = [
    "Catalog",
    "Content",
    "ContentError",
    "FlowConfig",
    "PriorityTable",
    "Resources",
    "load_content",
]


class ContentError(ValueError):
    """A file in ``config/`` is invalid; the message names the file, field and reason."""


@dataclass(frozen=True)
class Content:
    instruments: dict[str, Instrument]
    catalogs: dict[str, Catalog]
    resources: Resources
    flows: FlowConfig
    priorities: PriorityTable
    warnings: tuple[str, ...]

    def catalog(self, lang: str) -> Catalog:
        return self.catalogs.get(lang) or self.catalogs["es"]


def _describe(path: Path, exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{path.name}: {field}: {first['msg']}"


def load_content(config_dir: Path) -> Content:
    try:
        instruments = load_instruments(config_dir / "instruments")
    except InstrumentError as exc:
        raise ContentError(str(exc)) from None
    try:
        catalogs = load_catalogs(config_dir / "messages")
    except ValidationError as exc:
        raise ContentError(_describe(config_dir / "messages", exc)) from None
    except ValueError as exc:
        raise ContentError(str(exc)) from None
    resources_path = config_dir / "resources.yaml"
    try:
        resources = load_resources(resources_path)
    except ValidationError as exc:
        raise ContentError(_describe(resources_path, exc)) from None
    flows_path = config_dir / "flows.yaml"
    try:
        flows = load_flow_config(flows_path)
    except ValidationError as exc:
        raise ContentError(_describe(flows_path, exc)) from None
    missing = sorted(flows.instrument_ids() - set(instruments))
    if missing:
        raise ContentError(f"flows.yaml: refers to instrument(s) not in instruments/: {missing}")
    acuity = instruments[flows.acuity_instrument]
    if flows.acuity_item not in {item.id for item in acuity.items}:
        raise ContentError(f"flows.yaml: acuity_item: {flows.acuity_item!r} not in {acuity.id}")
    priorities_path = config_dir / "priorities.yaml"
    try:
        priorities = load_priorities(priorities_path)
    except ValidationError as exc:
        raise ContentError(_describe(priorities_path, exc)) from None
    try:
        priorities.check(instruments)
    except ValueError as exc:
        raise ContentError(f"priorities.yaml: {exc}") from None
    return Content(
        instruments=instruments,
        catalogs=catalogs,
        resources=resources,
        flows=flows,
        priorities=priorities,
        warnings=tuple(validation_warnings(instruments)),
    )
