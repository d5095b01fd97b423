"""What an API token may reach besides its owner's role: scopes and source addresses
(issue 22 point 2).  Plain functions over plain values: no request, no database.

Every route under /api/ declares beside its ``roles=`` the scope it needs (``scope=``, read
by ``webui.plugins.AuthPlugin``): one of ``SCOPES``, or

- ``ANY``: any valid token (who am I, the OpenAPI document, the health check);
- ``FULL``: only a token with no scopes, i.e. the full access of its owner's role
  (making and revoking tokens: a scoped token must not mint itself a wider one).

A token with no scopes listed acts with its owner's full role, as every token did before
scopes existed.  A scope never grants more than the role: the role check comes first.
A token with addresses is refused from any other source address (the peer's address as the
server saw it; ``X-Forwarded-For`` is never read).
"""

from __future__ import annotations

import ipaddress

from appliance.errors import FieldError, ValidationError

# name -> what it covers (English; the catalogs' ``tokens.scope.<name with _>`` say it in words)
SCOPES = {
    "calls:read": "live state and events, call records, registrations, the wallboard, missed calls, "
                  "dispositions, refused calls, call scripts",
    "calls:control": "acting on calls and agents: sign in and out, pause, dial, transfer, hold, hang up, "
                     "listen in, pick up, recording pause, preview dialling, call outcomes, messages, faxes out",
    "recordings:read": "call recordings, voice messages and faxes, with their audio and documents",
    "customers:read": "customers, their history, follow-ups, addresses, e-mails and mail templates; "
                      "the knowledge base",
    "customers:write": "creating and changing customers, notes, follow-ups, e-mail to customers, "
                       "do-not-call requests (includes customers:read)",
    "orders:read": "orders, products, suppliers, points, work orders and their types",
    "orders:write": "creating and changing orders and work orders (includes orders:read)",
    "reports:read": "reports, bills, sales figures, campaign figures, work-order statistics",
    "config": "configuration and administration: queues, agents, trunks, users, audit log, security, "
              "rate plans, call lists, campaigns, scripts, knowledge base editing, settings",
}
IMPLIES = {"customers:write": ("customers:read",), "orders:write": ("orders:read",)}
ANY = "any"
FULL = "full"
DECLARABLE = frozenset(SCOPES) | {ANY, FULL}
MAX_ADDRESSES = 32


def msgid(scope: str) -> str:
    """The catalog id naming ``scope`` (``calls:read`` -> ``tokens.scope.calls_read``)."""
    return "tokens.scope." + scope.replace(":", "_")


def granted(scopes: tuple[str, ...]) -> frozenset[str] | None:
    """What a token's stored scopes let it reach: None (no scopes: everything its role may),
    else the scopes with those they include."""
    if not scopes:
        return None
    return frozenset(scopes) | {implied for s in scopes for implied in IMPLIES.get(s, ())}


def allows(scopes: tuple[str, ...], needed: str) -> bool:
    """Whether a token holding ``scopes`` (empty: full access) may use a route needing ``needed``."""
    reach = granted(scopes)
    if needed == ANY or reach is None:
        return True
    return needed != FULL and needed in reach


def address_allowed(addresses: tuple[str, ...], remote: str) -> bool:
    """Whether ``remote`` (the peer's address) is in one of ``addresses`` (none: any address).
    An IPv4 client seen through an IPv6 socket (``::ffff:10.0.0.5``) counts as its IPv4
    address; a peer that is not an address at all is refused."""
    if not addresses:
        return True
    try:
        peer = ipaddress.ip_address((remote or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer in ipaddress.ip_network(a) for a in addresses)


# -- reading what a person or program asks for -----------------------------------------------
def _words(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def parse_scopes(value) -> tuple[str, ...]:
    """A list of scope names (or a text of them separated by spaces or commas) -> the sorted,
    distinct scopes; none: full access.  Unknown names are a ``ValidationError``."""
    words = _words(value)
    bad = [w for w in words if not isinstance(w, str) or w not in SCOPES]
    if bad:
        names = ", ".join(SCOPES)
        raise ValidationError("scopes: each one of " + names, code="token.invalid",
                              fields={"scopes": FieldError("field.choice", f"one of {names}", choices=names)})
    return tuple(sorted(set(words)))


def parse_addresses(value) -> tuple[str, ...]:
    """Addresses and networks (``192.0.2.10``, ``10.1.0.0/16``, ``2001:db8::/32``), as a list
    or a text separated by spaces or commas -> the networks, normalised and distinct, in the
    order given; none: any address."""
    out: list[str] = []
    for word in _words(value):
        try:
            if not isinstance(word, str) or len(word) > 64:
                raise ValueError(word)
            network = str(ipaddress.ip_network(word.strip(), strict=False))
        except ValueError:
            raise ValidationError(f"addresses: {str(word)[:64]!r} is not an IP address or network",
                                  code="token.invalid",
                                  fields={"addresses": FieldError("tokens.field.address",
                                                                  "not an IP address or network (CIDR): {value}",
                                                                  value=str(word)[:64])}) from None
        if network not in out:
            out.append(network)
    if len(out) > MAX_ADDRESSES:
        raise ValidationError(f"addresses: at most {MAX_ADDRESSES}", code="token.invalid",
                              fields={"addresses": FieldError("tokens.field.addresses_max", "at most {n} addresses",
                                                              n=MAX_ADDRESSES)})
    return tuple(out)
