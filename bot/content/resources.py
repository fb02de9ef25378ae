"""Crisis lines and resources (``config/resources.yaml``)."""

from __future__ import annotations

from pathlib import Path

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

    def crisis_lines_text(self, lang: str) -> str:
        return "\n".join(
            f"📞 {line.number} – {line.name.get(lang)} ({line.detail.get(lang)})"
            for line in self.crisis_lines
        )

    def resources_text(self, lang: str) -> str:
        return "\n".join(f"• {item.get(lang)}" for item in self.resources)


def load_resources(path: Path) -> Resources:
    return Resources.model_validate(load_yaml(path))
