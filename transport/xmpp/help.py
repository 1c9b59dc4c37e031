"""The answer to a chat message sent to the component domain (``help``, or anything else).

Most clients never show a gateway's ad-hoc commands or registration until asked, so a
message to the domain answers with what its sender can do there: how to reach people on the
network, whether and how to register, and the commands they may run.
"""

from __future__ import annotations

from transport.xmpp.adhoc import CommandSet
from transport.xmpp.backend_context import Gateway


class GatewayHelp:
    """Builds the help text for one component and one user."""

    def __init__(self, gw: Gateway, commands: CommandSet) -> None:
        self.gw = gw
        self.commands = commands

    async def text(self, user: str) -> str:
        gw = self.gw
        jid = gw.component_jid
        name = gw.backend.identities[0].name if gw.backend.identities else gw.backend.name
        lines = [f"This is {name} ({jid}).", gw.backend.addressing_help(jid)]
        if not gw.policy.domain_allowed(user):
            lines.append("Users of your server may not use this gateway.")
            return "\n".join(lines)
        if gw.backend.registration is not None:
            registration = await gw.registered_user(user)
            if registration is None:
                lines.append("You are not registered yet: run the command \"Register\" "
                             f"(ad-hoc command node \"register\" on {jid}), or use your "
                             "client's gateway registration.")
            else:
                key = f" as {registration.legacy_key}" if registration.legacy_key else ""
                lines.append(f"You are registered{key}.")
        visible = await self.commands.visible(user)
        if visible:
            listed = "; ".join(f"{c.name} ({c.node})" for c in visible)
            lines.append(f"Commands you can run on {jid} (your client's ad-hoc commands, "
                         f"\"Execute command\" or /cmd): {listed}.")
        lines.append("Send \"help\" to see this again.")
        return "\n".join(lines)
