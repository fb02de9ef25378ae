"""Load the instrument files in ``config/instruments/``.

Every ``*.yaml`` file is parsed and validated against :mod:`bot.instruments.schema`. Any
problem raises :class:`InstrumentError`, whose message names the file, the field path
(for example ``items.phq9_3.text.es`` or ``bands``) and the reason, so a broken file
stops the service at start-up instead of mis-scoring a person later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.instruments.schema import Instrument

__all__ = ["InstrumentError", "load_instrument", "load_instruments", "validation_warnings"]

# Lists whose entries are named by a key in error paths instead of by their position.
_ENTRY_NAMES = {"items": "id", "bands": "code", "results": "code", "risk_rules": "id"}
_MAX_ERRORS = 8
# Tags pydantic puts in an error's loc for each form of the Condition union.
_CONDITION_FORMS = {"ItemIs", "ItemAtLeast", "TotalAtLeast", "ResultIs", "AnyOf", "AllOf", "NoneOf"}
_CONDITION_HELP = (
    "{item, in}, {item, gte}, {total_gte}, {result_in}, {any: [...]}, {all: [...]}, {none: [...]}"
)


class InstrumentError(Exception):
    """An instrument file is missing, unreadable or does not match the schema."""

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file = file
        self.field = field
        self.reason = reason
        super().__init__(f"{file}: field {field!r}: {reason}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key repeated in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _field_path(loc: Sequence[int | str], data: Any) -> str:
    """Render a pydantic ``loc`` as ``items.phq9_3.text.es``, naming list entries by id."""
    parts: list[str] = []
    node: Any = data
    parent_key: str | None = None
    for part in loc:
        if part in _CONDITION_FORMS:
            continue  # pydantic's tag for a member of the Condition union, not a field
        if isinstance(part, int):
            name = None
            if isinstance(node, list) and 0 <= part < len(node):
                entry = node[part]
                key = _ENTRY_NAMES.get(parent_key or "")
                if key and isinstance(entry, Mapping) and isinstance(entry.get(key), str):
                    name = entry[key]
                node = entry
            else:
                node = None
            if name is None:
                parts.append(f"[{part}]")
            else:
                parts.append(f".{name}")
        else:
            node = node.get(part) if isinstance(node, Mapping) else None
            parts.append(f".{part}")
            parent_key = part
    return "".join(parts).lstrip(".") or "<file>"


def _split_model_error(message: str) -> tuple[str, str]:
    """The schema's own checks raise ``"<field path>: <reason>"``; split the two."""
    message = message.removeprefix("Value error, ")
    field, sep, reason = message.partition(": ")
    if sep and field and " " not in field:
        return field, reason
    return "<file>", message


def _node_at(loc: Sequence[int | str], data: Any) -> Any:
    node = data
    for part in loc:
        if isinstance(node, Mapping) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _condition_problem(loc: Sequence[int | str], data: Any) -> tuple[str, str] | None:
    """A condition matching none of the union's forms yields one error per form; say it once."""
    tags = [index for index, part in enumerate(loc) if part in _CONDITION_FORMS]
    if tags:
        # The last tag is the innermost condition that failed (inside any/all/none).
        prefix = [part for part in loc[: tags[-1]] if part not in _CONDITION_FORMS]
        node = _node_at(prefix, data)
        keys = sorted(node) if isinstance(node, Mapping) else type(node).__name__
        return (
            _field_path(prefix, data),
            f"not a valid condition (got {keys}); expected one of {_CONDITION_HELP}",
        )
    return None


def _from_validation_error(file: str, error: ValidationError, data: Any) -> InstrumentError:
    problems: list[tuple[str, str]] = []
    for err in error.errors(include_url=False):
        loc = err["loc"]
        if not loc:
            problem = _split_model_error(err["msg"])
        else:
            problem = _condition_problem(loc, data) or (_field_path(loc, data), err["msg"])
        if problem not in problems:
            problems.append(problem)
    # An outer condition fails too when one inside it does; report only the innermost.
    conditions = [f for f, r in problems if r.startswith("not a valid condition")]
    problems = [
        (f, r)
        for f, r in problems
        if not r.startswith("not a valid condition")
        or not any(other != f and other.startswith(f) for other in conditions)
    ]
    field, reason = problems[0]
    if len(problems) > 1:
        shown = [f"{f}: {r}" for f, r in problems[:_MAX_ERRORS]]
        more = len(problems) - _MAX_ERRORS
        if more > 0:
            shown.append(f"... and {more} more")
        reason = f"{reason} (all problems: {'; '.join(shown)})"
    return InstrumentError(file, field, reason)


def load_instrument(path: Path) -> Instrument:
    """Read and validate one instrument file. Its ``id`` must equal the file name's stem."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError(name, "<file>", f"cannot be read: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise InstrumentError(name, "<yaml>", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InstrumentError(name, "<file>", "the top level must be a mapping of fields")
    try:
        instrument = Instrument.model_validate(data)
    except ValidationError as exc:
        raise _from_validation_error(name, exc, data) from exc
    if instrument.id != path.stem:
        raise InstrumentError(
            name, "id", f"{instrument.id!r} does not match the file name {path.stem!r}"
        )
    return instrument


def _check_shared_items(files: Mapping[str, Instrument]) -> None:
    """Items that share a LOINC code (a gate and its full instrument) must share options.

    The engine carries an answer from one instrument into another by the item's LOINC code,
    so the carried option code must mean the same thing in both.
    """
    first: dict[str, tuple[str, str, list[tuple[str, int | None]]]] = {}
    for file, instrument in files.items():
        for item in instrument.items:
            if item.loinc is None:
                continue
            options = [(o.code, o.value) for o in instrument.options_for(item)]
            seen = first.get(item.loinc)
            if seen is None:
                first[item.loinc] = (file, item.id, options)
            elif seen[2] != options:
                raise InstrumentError(
                    file,
                    f"items.{item.id}.options",
                    f"item shares LOINC {item.loinc} with {seen[0]} item {seen[1]} but its "
                    f"options differ ({options} vs {seen[2]}); answers could not be carried over",
                )


def load_instruments(directory: Path) -> dict[str, Instrument]:
    """Load every ``*.yaml`` in ``directory``, keyed by instrument id."""
    if not directory.is_dir():
        raise InstrumentError(str(directory), "<directory>", "is not a directory")
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise InstrumentError(str(directory), "<directory>", "contains no *.yaml instrument file")
    by_file = {path.name: load_instrument(path) for path in paths}
    _check_shared_items(by_file)
    return {instrument.id: instrument for instrument in by_file.values()}


def validation_warnings(instruments: Mapping[str, Instrument]) -> list[str]:
    """One line per translation that is not the validated published text."""
    lines: list[str] = []
    for instrument_id in sorted(instruments):
        instrument = instruments[instrument_id]
        for lang in sorted(instrument.unvalidated_languages):
            source = instrument.translations[lang].source
            lines.append(
                f"{instrument_id}.yaml: {lang} translation is not the validated published text "
                f"({source})"
            )
    return lines
