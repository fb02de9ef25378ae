"""Texts for the on-call team: ``config/messages/staff.<lang>.yaml`` (same keys per language)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bot.content.messages import placeholders
from bot.content.yamlio import load_yaml
from bot.escalation.models import OUTCOMES, PRIORITIES, STATUSES
from bot.flows.types import MEDIA_KINDS

LANGUAGES: tuple[str, ...] = ("es", "en")
REQUIRED_TEXT: tuple[str, ...] = (
    "alert",
    "alert_actions_telegram",
    "alert_actions_other",
    "alert_step_first",
    "alert_step_again",
    "alert_new_signal",
    "quote",
    "person_deleted",
    "waiting_minutes",
    "waiting_hours",
    "acknowledged",
    "acknowledged_by_other",
    "already_acknowledged",
    "already_resolved",
    "not_found",
    "not_allowed",
    "resolved",
    "choose_outcome",
    "invalid_outcome",
    "sent",
    "person_gone",
    "empty",
    "usage",
    "cases_empty",
    "cases_header",
    "case_line",
    "relay",
    "media_from_person",
    "alert_media",
    "to_person",
    "oncall_usage",
    "oncall_added",
    "oncall_gap",
    "oncall_undone",
    "oncall_nothing",
    "oncall_not_supervisor",
    "oncall_now",
    "oncall_gaps",
    "oncall_no_gaps",
    "oncall_change_line",
    "oncall_refused",
    "oncall_text_cover",
    "oncall_text_primary",
    "oncall_text_away",
    "oncall_error_invalid",
    "oncall_error_no_roster",
    "transferred_to_you",
)


class StaffCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str
    priority: dict[str, str]
    status: dict[str, str]
    outcome: dict[str, str]
    button: dict[str, str]
    #: What a person attached, by ``bot.flows.types.MediaKind``.
    media: dict[str, str]
    text: dict[str, str]

    def render(self, key: str, **values: object) -> str:
        return self.text[key].format(**values)

    def media_list(self, counts: dict[str, int]) -> str:
        """``{"voice": 2, "photo": 1}`` → ``nota de voz ×2, foto``."""
        return ", ".join(
            self.media.get(kind, kind) + (f" ×{n}" if n > 1 else "") for kind, n in counts.items()
        )


class StaffTexts:
    def __init__(self, catalogs: dict[str, StaffCatalog]) -> None:
        self.catalogs = catalogs

    def get(self, lang: str) -> StaffCatalog:
        return self.catalogs.get(lang) or self.catalogs["es"]


def load_staff_texts(directory: Path) -> StaffTexts:
    """Load ``staff.es.yaml`` and ``staff.en.yaml``; ``ValueError`` names the file and key."""
    catalogs: dict[str, StaffCatalog] = {}
    for lang in LANGUAGES:
        path = directory / f"staff.{lang}.yaml"
        if not path.is_file():
            raise ValueError(f"{path.name}: missing")
        catalog = StaffCatalog.model_validate(load_yaml(path))
        _check(path.name, catalog)
        catalogs[lang] = catalog
    reference = catalogs["es"]
    for lang, catalog in catalogs.items():
        for key, template in catalog.text.items():
            if placeholders(template) != placeholders(reference.text[key]):
                raise ValueError(f"staff.{lang}.yaml: text.{key}: placeholders differ from es")
    return StaffTexts(catalogs)


def _check(name: str, catalog: StaffCatalog) -> None:
    for section, keys in (
        ("priority", PRIORITIES),
        ("status", STATUSES),
        ("outcome", OUTCOMES),
        ("button", ("ack", "resolve")),
        ("media", MEDIA_KINDS),
        ("text", REQUIRED_TEXT),
    ):
        missing = [k for k in keys if k not in getattr(catalog, section)]
        if missing:
            raise ValueError(f"{name}: {section}: missing key(s) {missing}")
