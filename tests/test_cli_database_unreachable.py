"""Starting with the database unreachable prints one clear line, not a traceback."""

from __future__ import annotations

import socket

import pytest

from tests.cli_support import bot_env, run_bot


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once closed


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["migrate"], ["worker"]])
def test_an_unreachable_postgresql_gives_one_line(command: list[str]) -> None:
    url = f"postgresql+psycopg://bot:s3cret-pass@127.0.0.1:{_closed_port()}/screening"
    result = run_bot(*command, env=bot_env(url))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cannot reach the database at DATABASE_URL=postgresql+psycopg://")
    assert "s3cret-pass" not in result.stderr and "***" in lines[0]
