"""CSV and FHIR exports of real screenings; the FHIR Bundle validated by ``fhir.resources``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.accounts.models import DashboardUser
from bot.content import Content, load_content
from bot.crypto import Cipher
from bot.dashboard import export
from bot.dashboard.accounts import Accounts
from bot.dashboard.models import DashboardEvent
from bot.db.engine import make_engine
from bot.db.models import Screening
from bot.flows import ConversationService
from bot.flows import Engine as FlowEngine
from tests.cli_support import bot_env, run_bot
from tests.dashboard.people import WHEN, gad7, phq9, to_menu

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-key-0123456789abcdef0123456789"
CHAT_ID = "777000111"


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(ROOT / "config")


@pytest.fixture
def screened(db: Engine, content: Content) -> Iterator[Engine]:
    service = ConversationService(db, FlowEngine(content), Cipher(SECRET), clock=lambda: WHEN)
    to_menu(service, CHAT_ID)
    # The GAD-7 first: after a PHQ-9 with item 9 = 1 the person waits for a psychologist, and
    # no questionnaire is offered while they wait.
    gad7(service, CHAT_ID, [0, 1, 0, 1, 0, 0, 1])  # 3, minimal
    phq9(service, CHAT_ID, [2, 2, 1, 3, 1, 2, 1, 0, 1])  # 13, moderate, item 9 = 1
    yield db


def test_csv_has_one_row_per_screening_with_answers_and_no_identifier(
    screened: Engine, content: Content
) -> None:
    body = export.to_csv(content, export.rows(screened, WHEN - timedelta(days=1)))
    assert CHAT_ID not in body
    table = list(csv.DictReader(io.StringIO(body)))
    assert [r["instrument"] for r in table] == ["gad7", "phq9"]
    phq = table[1]
    assert (phq["total"], phq["max_total"], phq["band"], phq["positive"]) == (
        "13",
        "27",
        "moderate",
        "true",
    )
    assert phq["phq9_9"] == "1" and phq["gad7_1"] == ""
    assert phq["pseudonym"].startswith("P-") and "suicidal_ideation" in phq["flags"]
    assert table[0]["gad7_7"] == "1"


def test_csv_period_excludes_other_days(screened: Engine, content: Content) -> None:
    later = export.rows(screened, WHEN + timedelta(hours=1))
    assert export.to_csv(content, later).count("\r\n") == 1  # the header only
    before = export.rows(screened, WHEN - timedelta(days=2), WHEN - timedelta(days=1))
    assert list(before) == []


def test_csv_cells_never_start_a_formula() -> None:
    assert export._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert export._cell("-3") == "'-3" and export._cell("P-1") == "P-1"


def test_fhir_bundle_is_valid_r4_with_loinc_codes(screened: Engine, content: Content) -> None:
    data = json.loads(
        export.to_fhir_json(content, export.rows(screened, WHEN - timedelta(days=1)), WHEN)
    )
    bundle = Bundle.model_validate(data)
    assert bundle.type == "collection" and bundle.entry is not None
    resources = [e["resource"] for e in data["entry"]]
    responses = [r for r in resources if r["resourceType"] == "QuestionnaireResponse"]
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    assert len(responses) == 2 and len(observations) == 2
    for resource in responses:
        QuestionnaireResponse.model_validate(resource)
    for resource in observations:
        Observation.model_validate(resource)
    phq = responses[1]
    assert phq["questionnaire"] == "http://loinc.org/q/44249-1"
    item9 = next(i for i in phq["item"] if i["linkId"] == "phq9_9")
    assert item9["answer"][0]["valueCoding"] == {
        "system": "http://loinc.org",
        "code": "LA6569-3",
        "display": "Varios días",
    }
    assert item9["definition"] == "http://loinc.org/44260-8"
    total = observations[1]
    assert total["code"]["coding"][0] == {"system": "http://loinc.org", "code": "44261-6"}
    assert total["valueInteger"] == 13
    phq_url = next(e["fullUrl"] for e in data["entry"] if e["resource"] is phq)
    assert total["derivedFrom"][0]["reference"] == phq_url
    assert CHAT_ID not in json.dumps(data)
    assert observations[0]["code"]["coding"][0]["code"] == "70274-6"  # GAD-7 total


def test_a_categorical_result_is_an_observation_with_a_coded_value(
    db: Engine, content: Content
) -> None:
    service = ConversationService(db, FlowEngine(content), Cipher(SECRET), clock=lambda: WHEN)
    to_menu(service, "asq-person")
    with Session(db) as session:
        session.add(
            Screening(
                participant_id=1,
                instrument_id="asq",
                instrument_version="1",
                language="en",
                answers={"asq_1": "no"},
                result="negative",
                completed_at=WHEN,
                started_at=WHEN,
            )
        )
        session.commit()
    data = export.to_fhir_bundle(content, export.rows(db, WHEN - timedelta(days=1)), WHEN)
    Bundle.model_validate(data)
    obs = data["entry"][1]["resource"]
    assert obs["code"]["coding"][0] == {"system": "http://loinc.org", "code": "93243-5"}
    assert obs["valueCodeableConcept"]["coding"][0]["code"] == "negative"


def test_cli_create_user_and_export(tmp_path: Path, content: Content) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = bot_env(url)
    created = run_bot(
        "create-user", "--username", "admin", "--role", "admin", "--password-stdin",
        env=env, stdin="a long enough passphrase\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    again = run_bot(
        "create-user", "--username", "admin", "--password-stdin", env=env, stdin="x" * 20
    )
    assert again.returncode == 1 and "username taken" in again.stderr
    short = run_bot(
        "create-user", "--username", "bob", "--password-stdin", env=env, stdin="short\n"
    )
    assert short.returncode == 1 and "password too short" in short.stderr
    db = make_engine(url)
    try:
        with Session(db) as session:
            user = session.exec(select(DashboardUser)).one()
        assert (user.username, user.role) == ("admin", "admin")
        assert Accounts(db).sign_in("admin", "a long enough passphrase", None).token
        service = ConversationService(db, FlowEngine(content), Cipher(SECRET), clock=lambda: WHEN)
        to_menu(service, CHAT_ID)
        phq9(service, CHAT_ID, [1] * 9)
        out = tmp_path / "out.json"
        made = run_bot(
            "export", "--format", "fhir", "--since", "2026-11-21", "--output", str(out), env=env
        )
        assert made.returncode == 0, made.stderr
        bundle = Bundle.model_validate(json.loads(out.read_text(encoding="utf-8")))
        assert bundle.entry is not None and len(bundle.entry) == 2
        table = run_bot(
            "export", "--format", "csv", "--since", "2026-11-22", "--until", "2026-11-22", env=env
        )
        assert table.returncode == 0 and len(table.stdout.splitlines()) == 2
        assert CHAT_ID not in table.stdout
        assert (
            run_bot("export", "--format", "csv", "--since", "22/11/2026", env=env).returncode == 2
        )
        with Session(db) as session:
            events = session.exec(select(DashboardEvent).where(DashboardEvent.kind == "export"))
            assert [(e.actor, e.detail["format"]) for e in events] == [
                ("cli", "fhir"),
                ("cli", "csv"),
            ]
    finally:
        db.dispose()
