"""The demo's generated values survive being pasted into clients and command lines."""

from __future__ import annotations

from transport.demo_state import DemoState


def test_the_demo_password_never_reads_as_a_command_line_option() -> None:
    passwords = {DemoState().password for _ in range(2000)}
    assert len(passwords) == 2000
    for password in passwords:
        assert len(password) == 16
        assert password.isascii() and password.isalnum(), password
