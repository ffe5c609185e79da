"""Where the push worker may connect: public addresses only, checked where the connection is made.

Push endpoints come from browsers, that is from anyone; a server that posts to them must not be
turned against its own network (SSRF). Three layers:

* ``ip_of``: a host written as an address in any form ``inet_aton`` reads (``0x7f000001``,
  ``2130706433``, ``127.1``, ``0177.0.0.1``) is that address, so the disguise does not hide it;
* ``private_host`` (at subscribe and before each send): loopback, private, link-local, reserved and
  local names are refused; a name that resolves to one of those is refused at subscribe too;
* ``PublicResolver`` (the worker's aiohttp connector): the addresses a connection is made to are the
  ones this resolver returned, and it returns public ones only. A name that answered a public address
  at subscribe and a private one later (DNS rebinding) is refused at connect time.

PUSH_ENDPOINT_ALLOWLIST (tests, development; refused in production) lets named hosts through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")
RESOLVE_TIMEOUT_S = 3.0


def ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` denotes when it is written as one (in any legacy IPv4 form), else None."""
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _not_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def private_host(host: str) -> bool:
    """Hosts a push must never be sent to: loopback, private, link-local, reserved, local names."""
    name = host.lower().rstrip(".")
    if name in ("localhost", "") or name.endswith(LOCAL_SUFFIXES):
        return True
    ip = ip_of(name)
    return ip is not None and _not_public(ip)


async def resolves_private(host: str, port: int) -> bool | None:
    """True if ``host`` resolves to any non-public address, False if only to public ones, None if it
    cannot be resolved now."""
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        return None
    return any(private_host(str(info[4][0])) for info in infos)


class PublicResolver(AbstractResolver):
    """aiohttp's resolver, minus every address that is not public (allowlisted hosts excepted)."""

    def __init__(self, allowlist: tuple[str, ...] = ()) -> None:
        self._inner = ThreadedResolver()
        self._allow = frozenset(allowlist)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if host in self._allow or f"{host}:{port}" in self._allow:
            return results
        public = [r for r in results if not private_host(str(r["host"]))]
        if not public:
            raise OSError(f"push endpoint host {host!r} resolves to no public address")
        return public

    async def close(self) -> None:
        await self._inner.close()


def public_connector(allowlist: tuple[str, ...]) -> Any:
    """The worker's connector: every connection goes through ``PublicResolver``."""
    import aiohttp

    return aiohttp.TCPConnector(resolver=PublicResolver(allowlist), use_dns_cache=False)
