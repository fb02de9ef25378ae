"""The labelled corpus of messages: reading it, its splits, and the hash of what a model used.

``tests/data/crisis/corpus.csv`` has one row per message::

    id,family,split,text,label,category,language,style,clarity,source,note

* ``family``: all variants of one sentence share it, and a family is wholly in one split.
* ``split``: ``train``, ``dev`` or ``test``, fixed in the file. It is a function of the
  family id (``split_of``), so nobody can move a row to flatter a figure: a test checks it.
  Legacy families (the phrases the old lexicon was written from) are always ``train``:
  testing on them would measure memory.
* ``label``: 1 risk, 0 no risk; ``category``: see ``RISK_CATEGORIES``/``SAFE_CATEGORIES``
  (``reviewed``: a no-risk message labelled on the dashboard, from ``export-labels``).

``tests/data/crisis/sources.md`` says where each ``source`` came from.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

RISK_CATEGORIES = (
    "suicidal_intent",
    "method_seeking",
    "suicidal_ideation",
    "farewell",
    "past_attempt",
    "self_harm",
    "third_party",
    "third_party_emergency",
)
SAFE_CATEGORIES = (
    "idiom",
    "means_everyday",
    "goodbye_everyday",
    "grief",
    "news",
    "lyrics",
    "medical",
    "negated",
    "resolved_past",
    "distress_no_risk",
    "helper_info",
    "everyday",
    "reviewed",
)
#: The safe category of no-risk messages labelled by reviewers on the dashboard
#: (``python -m bot.escalation.export-labels``): not in the committed corpus.
REVIEWED = "reviewed"
LANGUAGES = ("es", "en", "spanglish", "qu-es")
SPLITS = ("train", "dev", "test")
FIELDS = (
    "id",
    "family",
    "split",
    "text",
    "label",
    "category",
    "language",
    "style",
    "clarity",
    "source",
    "note",
)
#: Shares of families per split (the rest is ``test``).
TRAIN_SHARE = 0.70
DEV_SHARE = 0.15
_SPLIT_SALT = b"crisis-corpus-v1:"
LEGACY_PREFIX = "legacy-"


class CorpusError(ValueError):
    """A corpus file is malformed."""


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    family: str
    split: str
    text: str
    label: int
    category: str
    language: str
    style: str
    clarity: str
    source: str
    note: str

    @property
    def is_risk(self) -> bool:
        return self.label == 1


def split_of(family: str) -> str:
    """The split a family belongs to: a stable hash of its id. Legacy families (ids
    ``legacy-…``, which absorb any other family with the same normalised text) are train."""
    if family.startswith(LEGACY_PREFIX):
        return "train"
    digest = hashlib.sha256(_SPLIT_SALT + family.encode()).digest()
    share = int.from_bytes(digest[:8], "big") / 2**64
    if share < TRAIN_SHARE:
        return "train"
    return "dev" if share < TRAIN_SHARE + DEV_SHARE else "test"


def _row(record: dict[str, str], where: str) -> Row:
    try:
        row = Row(
            **{name: (record.get(name) or "").strip() for name in FIELDS if name != "label"},
            label=int(record["label"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise CorpusError(f"{where}: {exc}") from exc
    allowed = RISK_CATEGORIES if row.label == 1 else SAFE_CATEGORIES
    problems = [
        f"label {row.label}" if row.label not in (0, 1) else "",
        f"category {row.category!r}" if row.category not in allowed else "",
        f"language {row.language!r}" if row.language not in LANGUAGES else "",
        f"split {row.split!r}" if row.split not in SPLITS else "",
        "empty text" if not row.text else "",
        "no family" if not row.family else "",
    ]
    bad = [p for p in problems if p]
    if bad:
        raise CorpusError(f"{where}: {', '.join(bad)}")
    return row


def read_corpus(path: Path) -> list[Row]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(FIELDS) - set(reader.fieldnames or ())
        if missing:
            raise CorpusError(f"{path}: missing columns {sorted(missing)}")
        rows = [_row(record, f"{path}:{number + 2}") for number, record in enumerate(reader)]
    ids = [row.id for row in rows]
    if len(set(ids)) != len(ids):
        raise CorpusError(f"{path}: duplicate ids")
    return rows


#: Columns of an independent set (``tests/data/crisis/external.csv``): written by someone
#: who never saw the corpus or the detector, with kinds of its own.
EXTERNAL_FIELDS = ("text", "label", "kind", "language")


def read_external(path: Path) -> list[Row]:
    """An independent labelled set, as rows of split ``external`` (``category`` = its kind)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != EXTERNAL_FIELDS:
            raise CorpusError(f"{path}: expected columns {EXTERNAL_FIELDS}")
        rows = []
        for number, record in enumerate(reader):
            try:
                label = int(record["label"])
            except (TypeError, ValueError) as exc:
                raise CorpusError(f"{path}:{number + 2}: {exc}") from exc
            rows.append(
                Row(
                    id=f"x{number + 1}",
                    family=f"x{number + 1}",
                    split="external",
                    text=record["text"],
                    label=label,
                    category=record["kind"],
                    language=record["language"],
                    style="",
                    clarity="",
                    source="external",
                    note="",
                )
            )
    return rows


def write_corpus(path: Path, rows: Iterable[Row]) -> None:
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow(
                [row.label if name == "label" else getattr(row, name) for name in FIELDS]
            )


def fingerprint(paths: Sequence[Path]) -> str:
    """SHA-256 over the bytes of every file a model was built from, in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode() + b"\0")
        digest.update(Path(path).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
