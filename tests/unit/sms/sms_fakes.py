"""Stand-ins for the parts around the SMS sender in its unit tests."""


class ScriptedTwilio:
    """Answers creates from a script: an exception to raise, or None for success; records
    (to, body, sid) of every message it created."""

    def __init__(self, *script):
        self.script = list(script)
        self.created = []

    async def create_message(self, *, to, from_, body, media_urls, status_callback):
        step = self.script.pop(0) if self.script else None
        if step is not None:
            raise step
        sid = f"SM{len(self.created):032x}"
        self.created.append((to, body, sid))
        return sid
