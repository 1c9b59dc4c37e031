"""What an IRC-only gateway imports at start: no HTTP stack, no jaraco irc.

aiohttp is about 18 MiB of the idle footprint and serves only the SMS backend and the
``[metrics]`` listener; ``irc.client`` is about 5 MiB for one small class. Loading them when
nothing uses them was waste (issue: idle memory), so this keeps them out.
"""

import subprocess
import sys

HEAVY = ("aiohttp", "irc", "jaraco", "twilio", "dateutil", "tempora")


def test_irc_gateway_start_imports_no_http_stack() -> None:
    code = (
        "import sys\n"
        "import transport.cli, transport.app, transport.backends.irc.backend\n"
        "import transport.backends.echo\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
