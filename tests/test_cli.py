"""``python -m bot``: run as a newcomer would, in a subprocess."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli_support import ROOT, bot_env, run_bot


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return bot_env(f"sqlite:///{tmp_path / 'cli.db'}")


def test_validate_config_passes_and_warns_about_unvalidated_translations(
    env: dict[str, str],
) -> None:
    result = run_bot("validate-config", env=env)
    assert result.returncode == 0, result.stderr
    assert "config OK" in result.stdout
    assert "warning:" in result.stdout and "not the validated published text" in result.stdout


def test_validate_config_prints_the_priority_table(env: dict[str, str]) -> None:
    result = run_bot("validate-config", env=env)
    assert result.returncode == 0, result.stderr
    assert "Priority table (config/priorities.yaml)" in result.stdout
    assert "asq.acute" in result.stdout and "text.suicidal_intent" in result.stdout
    assert "reason: " in result.stdout and "source: " in result.stdout


def test_validate_config_names_the_file_field_and_reason(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    phq9 = config / "instruments" / "phq9.yaml"
    text = phq9.read_text(encoding="utf-8")
    phq9.write_text(text.replace("min: 5", "min: 6", 1), encoding="utf-8")
    result = run_bot("validate-config", env={**env, "CONFIG_DIR": str(config)})
    assert result.returncode == 1
    assert "phq9.yaml" in result.stderr and "bands" in result.stderr and "gap" in result.stderr


def test_a_bad_setting_stops_with_one_line(env: dict[str, str]) -> None:
    result = run_bot("validate-config", env={**env, "SECRET_KEY": "short"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "invalid setting SECRET_KEY: Value error, must be at least 32 characters"
    ]


def test_migrate_then_chat_in_the_terminal(env: dict[str, str]) -> None:
    assert run_bot("migrate", env=env).returncode == 0
    result = run_bot("chat", env=env, stdin="hola\n1\n1\n1\n2\n")
    assert result.returncode == 0, result.stderr
    assert "Pregunta 1 de 9" in result.stdout
    assert "Pregunta 2 de 9" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_on_the_simulator_and_stops_cleanly(env: dict[str, str]) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        page = httpx.get(f"{base}/simulator", timeout=5)
        assert page.status_code == 200 and "Simulador" in page.text
        started = httpx.post(f"{base}/simulator/api/conversations", timeout=5)
        conversation = started.json()["conversation"]  # issued by the server
        reply = httpx.post(
            f"{base}/simulator/api/messages",
            json={"conversation": conversation, "message_id": "m1", "text": "hola"},
            timeout=10,
        )
        assert reply.status_code == 200
        assert "emergencias" in reply.json()["replies"][0]["text"]
        bad = httpx.post(f"{base}/simulator/api/messages", json={"text": "x"}, timeout=10)
        assert bad.status_code == 422
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"{base}/simulator" in out


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_an_invalid_on_call_file(
    env: dict[str, str], tmp_path: Path, command: str
) -> None:
    roster = tmp_path / "oncall.yaml"
    roster.write_text("psychologists:\n  - id: ana\n    contacts: {}\n", encoding="utf-8")
    result = run_bot(command, env={**env, "ONCALL_FILE": str(roster)})
    assert result.returncode == 1
    assert "oncall.yaml: psychologists.0.name" in result.stderr
    assert "not starting" in result.stderr
