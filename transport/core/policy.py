"""Who may use the gateway: allowed domains, registration, admin rights."""

from __future__ import annotations

from dataclasses import dataclass

from transport.core.errors import GatewayError


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Rules from ``[xmpp]``; ``allowed_domains`` empty means every domain routed to us."""

    allowed_domains: frozenset[str]
    admins: frozenset[str]

    @classmethod
    def build(cls, allowed_domains: tuple[str, ...], admins: tuple[str, ...]) -> AccessPolicy:
        return cls(
            frozenset(d.lower() for d in allowed_domains),
            frozenset(a.lower() for a in admins),
        )

    def domain_allowed(self, bare_jid: str) -> bool:
        domain = bare_jid.rpartition("@")[2].lower()
        return not self.allowed_domains or domain in self.allowed_domains

    def is_admin(self, bare_jid: str) -> bool:
        return bare_jid.lower() in self.admins

    def check_domain(self, bare_jid: str) -> None:
        """Raise ``forbidden`` for users of a domain the admin did not allow."""
        if not self.domain_allowed(bare_jid):
            raise GatewayError(
                "Users of this server may not use this gateway", "forbidden", "auth"
            )


def registration_required() -> GatewayError:
    """The error for a user who must register before using the gateway."""
    return GatewayError(
        "You must register with this gateway first", "registration-required", "auth"
    )
