"""``python -m transport`` is the same as the ``xmpp-transport`` command."""

from transport.cli import main

raise SystemExit(main())
