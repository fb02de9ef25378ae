"""How the menu's checks are assembled from instruments (``config/flows.yaml``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bot.content.yamlio import load_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GateStep(_Strict):
    gate: str
    then: str


class InstrumentStep(_Strict):
    instrument: str


class FlowConfig(_Strict):
    full_check: list[GateStep | InstrumentStep] = Field(min_length=1)
    depression_check: str
    anxiety_check: str
    #: The C-SSRS screener (menu option and /cssrs).
    safety_check: str = "cssrs"
    acuity_instrument: str
    acuity_item: str
    resume_prompt_after_minutes: int = Field(default=30, ge=1)
    #: Minutes after a disclosure at which a waiting person gets a check-in message.
    waiting_checkins_minutes: list[int] = Field(default_factory=lambda: [10, 30])
    #: The detector's check question unanswered this long counts as a "yes" (escalates).
    check_silence_minutes: int = Field(default=10, ge=1, le=120)

    def instrument_ids(self) -> set[str]:
        ids = {
            self.depression_check,
            self.anxiety_check,
            self.safety_check,
            self.acuity_instrument,
        }
        for step in self.full_check:
            if isinstance(step, GateStep):
                ids |= {step.gate, step.then}
            else:
                ids.add(step.instrument)
        return ids


def load_flow_config(path: Path) -> FlowConfig:
    return FlowConfig.model_validate(load_yaml(path))
