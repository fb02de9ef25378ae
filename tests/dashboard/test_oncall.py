"""The on-call changes page in-process, on SQLite and PostgreSQL: who may change, what a
change does to the roster page, refusals named in the reader's language."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from bot.dashboard.accounts import Accounts
from bot.runtime import Runtime
from tests.dashboard.conftest import PASSWORD, sign_in

FORM = "%Y-%m-%dT%H:%M"
_PRIMARY = re.compile(r"<dt>Principal</dt><dd>([^<]*)</dd>")


def primary_shown(client: TestClient) -> str:
    found = _PRIMARY.search(client.get("/dashboard/roster").text)
    assert found, "no primary on the roster page"
    return found.group(1)


def window(runtime: Runtime, hours: int = 3) -> tuple[str, str, str]:
    """Now to ``hours`` later in the roster's local time, and who is primary now."""
    roster = runtime.escalation.roster_source.require()
    now = runtime.escalation.clock().astimezone(roster.zone)
    [primary, *_] = roster.on_call(now).primary
    return now.strftime(FORM), (now + timedelta(hours=hours)).strftime(FORM), primary


def test_a_supervisor_cover_shows_on_the_roster_page_and_undo_restores_it(
    client: TestClient, runtime: Runtime, accounts: Accounts
) -> None:
    accounts.create_user("rosa", PASSWORD, "supervisor", psychologist_id="rosa")
    csrf = sign_in(client, "rosa")
    start, end, primary = window(runtime)
    roster = runtime.escalation.roster_source.require()
    [cover] = [p for p in ("carmen", "luis") if p != primary][:1]
    before = primary_shown(client)
    assert before == roster.people[primary].name
    added = client.post(
        "/dashboard/oncall/cover",
        data={
            "csrf_token": csrf,
            "psychologist_id": cover,
            "covers": primary,
            "start": start,
            "end": end,
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    assert primary_shown(client) == roster.people[cover].name
    assert "Cambio guardado" in client.get(added.headers["location"]).text
    undo = client.post(
        "/dashboard/oncall/1/undo", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert undo.status_code == 303
    assert primary_shown(client) == before
    again = client.post("/dashboard/oncall/1/undo", data={"csrf_token": csrf})
    assert again.status_code == 400 and "El cambio 1 ya estaba deshecho." in again.text


def test_refusals_are_in_the_readers_language(
    client: TestClient, runtime: Runtime, admin: str
) -> None:
    csrf = sign_in(client, admin)
    client.get("/dashboard/lang/en")
    start, end, _ = window(runtime)
    refused = client.post(
        "/dashboard/oncall/cover",
        data={"csrf_token": csrf, "psychologist_id": "pedro", "start": start, "end": end},
    )
    assert refused.status_code == 400
    assert "Who: pedro is not in the roster file." in refused.text
    backwards = client.post(
        "/dashboard/oncall/away",
        data={"csrf_token": csrf, "psychologist_id": "ana", "start": end, "end": start},
    )
    assert "Until: The end must be after the start." in backwards.text
    assert "On-call changes" in client.get("/dashboard/oncall").text


def test_a_psychologist_may_look_but_not_change(
    client: TestClient, runtime: Runtime, psychologist: str
) -> None:
    csrf = sign_in(client, psychologist)
    page = client.get("/dashboard/oncall")
    assert page.status_code == 200 and 'id="cover-form"' not in page.text
    start, end, primary = window(runtime)
    refused = client.post(
        "/dashboard/oncall/cover",
        data={
            "csrf_token": csrf,
            "psychologist_id": "luis",
            "covers": primary,
            "start": start,
            "end": end,
        },
    )
    assert refused.status_code == 403
    assert client.post("/dashboard/oncall/1/undo", data={"csrf_token": csrf}).status_code == 403
