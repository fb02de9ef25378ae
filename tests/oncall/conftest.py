from tests.escalation.conftest import clock, desk, roster_file

__all__ = ["clock", "desk", "roster_file"]
