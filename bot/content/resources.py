"""Crisis lines and resources (``config/resources.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from bot.content.yamlio import load_yaml
from bot.instruments.schema import Text


class CrisisLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    number: str = Field(pattern=r"^[0-9 +\-]+$")
    detail: Text


class Resources(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    crisis_lines: list[CrisisLine] = Field(min_length=1)
    resources: list[Text] = Field(default_factory=list)

    #: How many lines a crisis reply shows first (the file lists the most important first:
    #: Línea 113 opción 5 and SAMU 106); the rest come on request (LÍNEAS).
    FIRST: ClassVar[int] = 2

    def crisis_lines_text(self, lang: str, limit: int | None = None) -> str:
        return "\n".join(
            f"📞 {line.number} – {line.name.get(lang)} ({line.detail.get(lang)})"
            for line in self.crisis_lines[:limit]
        )

    def first_lines_text(self, lang: str) -> str:
        """The two numbers that matter first, for crisis replies on a small screen."""
        return self.crisis_lines_text(lang, self.FIRST)

    def resources_text(self, lang: str) -> str:
        return "\n".join(f"• {item.get(lang)}" for item in self.resources)


def load_resources(path: Path) -> Resources:
    return Resources.model_validate(load_yaml(path))
