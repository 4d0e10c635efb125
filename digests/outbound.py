"""The one guarded HTTP client: every request Convene makes to a URL it was given.

Feeds (``convene feeds add/check/import``, the weekly build, ``--feeds``) are
fetched through :func:`guarded_client`. Its transport resolves each host
itself and connects to the address it checked (never resolving twice, so a
DNS answer that changes between the check and the connection, "DNS
rebinding", gains nothing), on the first request and on every redirect. It
refuses an address that is loopback, private (RFC 1918, unique-local
``fc00::/7``), link-local (``169.254.0.0/16``, the cloud metadata services),
multicast, reserved, unspecified, shared (``100.64.0.0/10``) or otherwise not
global, IPv4 addresses mapped or embedded in IPv6 (``::ffff:127.0.0.1``,
6to4, Teredo, NAT64) by the address they carry, and host names of metadata
services and of ``localhost``/``*.internal``. Hosts on the operator's
allow-list (``[outbound] allow_hosts``: names, addresses or networks) are let
through. Redirects, time and body size are capped by the caller's
:class:`FetchPolicy`.

:func:`static_refusal` is the same rule without a lookup, for an address
being stored (``feeds add --no-check``): literal addresses in every form
``inet_aton`` reads (``2130706433``, ``0x7f.1``, ``127.1``) and the
refused names.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``resolve(host, port)`` -> the host's addresses (text); tests inject one.
Resolver = Callable[[str, int], Sequence[str]]

#: Names of cloud metadata services (they answer on link-local addresses that
#: are refused anyway; the names are refused before any lookup).
METADATA_NAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.com", "metadata.oraclecloud.com",
})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(ValueError):
    """A URL whose host Convene does not connect to; the message names the
    address and the setting that would allow it."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """How outbound requests are bounded.

    ``allow_hosts``: host names (exact, case-insensitive), addresses or
    networks (``10.1.2.0/24``) let through although internal.
    ``max_redirects``: redirects followed per request. ``timeout``: seconds
    per phase (connect, each read); ``deadline``: seconds for a whole fetch,
    redirects included; ``max_bytes``: the largest body (decoded).
    ``feed_dir``: the only folder local feed files are read from (None: no
    local files). ``resolve``: the lookup (None: the system's ``getaddrinfo``)."""

    allow_hosts: tuple[str, ...] = ()
    max_redirects: int = 5
    timeout: float = 20.0
    deadline: float = 60.0
    max_bytes: int = 10_000_000
    feed_dir: Path | None = None
    resolve: Resolver | None = None
    _names: frozenset[str] = field(init=False, repr=False, compare=False)
    _nets: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: set[str] = set()
        nets: list[IPNetwork] = []
        for entry in self.allow_hosts:
            entry = entry.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.add(entry.rstrip("."))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_nets", tuple(nets))

    def name_allowed(self, host: str) -> bool:
        """Whether ``host`` (a name) is on the allow-list."""
        return host.lower().rstrip(".") in self._names

    def address_allowed(self, address: IPAddress) -> bool:
        """Whether ``address`` is in an allow-listed network."""
        return any(address in net for net in self._nets)


def _carried(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64),
    else ``address``."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` is not one to connect to ("a loopback address"), or
    None for a global unicast address."""
    inner = _carried(address)
    for flag, what in (("is_unspecified", "an unspecified address"),
                       ("is_loopback", "a loopback address"),
                       ("is_link_local", "a link-local address"),
                       ("is_multicast", "a multicast address"),
                       ("is_private", "a private address"),
                       ("is_reserved", "a reserved address")):
        if getattr(inner, flag) or getattr(address, flag):
            return what
    if not inner.is_global or not address.is_global:
        return "not a public address"
    return None


def name_problem(host: str) -> str | None:
    """Why the host name ``host`` is refused before any lookup, or None."""
    name = host.lower().rstrip(".")
    if name in METADATA_NAMES:
        return "a cloud metadata service"
    if name == "localhost" or name.endswith((".localhost", ".internal", ".local")):
        return "an internal name"
    return None


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an address when it is one, in any form a resolver reads:
    ``127.0.0.1``, ``[::1]``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
    ``127.1``. None for a name."""
    text = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text) and text[0].isascii() \
            and text[0] in "0123456789":
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _refusal(host: str, why: str) -> AddressRefused:
    return AddressRefused(f"{host} is {why}: Convene does not connect to internal addresses "
                          "(an operator may allow a host with [outbound] allow_hosts)")


def static_refusal(url: str, policy: FetchPolicy) -> AddressRefused | None:
    """The refusal for storing the http(s) ``url``, decided without a lookup
    (its host a refused literal address or name), or None."""
    host = urlsplit(url).hostname or ""
    if policy.name_allowed(host):
        return None
    address = literal_address(host)
    if address is not None:
        why = address_problem(address)
        return _refusal(host, why) if why and not policy.address_allowed(address) else None
    why = name_problem(host)
    return _refusal(host, why) if why else None


async def _lookup(policy: FetchPolicy, host: str, port: int) -> list[IPAddress]:
    if policy.resolve is not None:
        found: Iterable[str] = policy.resolve(host, port)
    else:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM)
        found = [str(info[4][0]) for info in infos]
    out: list[IPAddress] = []
    for text in found:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if address not in out:
            out.append(address)
    return out


async def checked_addresses(policy: FetchPolicy, host: str, port: int) -> list[IPAddress]:
    """The addresses to connect to for ``host``: resolved once and each checked
    (every one must pass, so a name cannot mix a public and an internal
    address). Raises AddressRefused, or OSError when the lookup fails."""
    if policy.name_allowed(host):
        literal = literal_address(host)
        return [literal] if literal is not None else await _lookup(policy, host, port)
    literal = literal_address(host)
    if literal is None:
        why = name_problem(host)
        if why:
            raise _refusal(host, why)
    addresses = [literal] if literal is not None else await _lookup(policy, host, port)
    if not addresses:
        raise OSError(f"{host}: no address")
    for address in addresses:
        why = address_problem(address)
        if why and not policy.address_allowed(address):
            raise _refusal(f"{host} ({address})" if literal is None else host, why)
    return addresses


def _backend(policy: FetchPolicy) -> object:
    import httpcore

    class GuardedBackend(httpcore.AsyncNetworkBackend):
        """Connects only to checked addresses (the check and the connection
        use the same lookup's answer)."""

        def __init__(self) -> None:
            self.inner = httpcore.AnyIOBackend()

        async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                              local_address: str | None = None,
                              socket_options: Iterable[object] | None = None,
                              ) -> httpcore.AsyncNetworkStream:
            try:
                addresses = await checked_addresses(policy, host, port)
            except AddressRefused as exc:
                raise httpcore.ConnectError(str(exc)) from exc
            except OSError as exc:
                raise httpcore.ConnectError(f"{host}: {exc.strerror or exc}") from exc
            last: Exception | None = None
            for address in addresses:
                try:
                    return await self.inner.connect_tcp(
                        str(address), port, timeout=timeout, local_address=local_address,
                        socket_options=socket_options)  # type: ignore[arg-type]
                except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                    last = exc
            assert last is not None
            raise last

        async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                      socket_options: Iterable[object] | None = None,
                                      ) -> httpcore.AsyncNetworkStream:
            raise httpcore.ConnectError("Unix sockets are not fetched")

        async def sleep(self, seconds: float) -> None:
            await self.inner.sleep(seconds)

    return GuardedBackend()


def guarded_client(policy: FetchPolicy, *, headers: dict[str, str] | None = None,
                   max_connections: int = 8) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` that connects only where :func:`checked_addresses`
    allows, follows at most ``policy.max_redirects`` redirects (each checked
    the same way: each new host is a new connection), ignores proxy
    environment variables (a proxy would connect for it), and times out
    after ``policy.timeout`` seconds per phase. Bodies and the whole fetch's
    time are the caller's to cap (see digests.fetch)."""
    import httpcore
    import httpx

    limits = httpx.Limits(max_connections=max_connections,
                          max_keepalive_connections=max_connections)
    transport = httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
    # httpx gives no public way to pass a network backend to its pool: the pool
    # is rebuilt as httpx builds it, with the guarded backend.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_backend(policy),  # type: ignore[arg-type]
    )
    return httpx.AsyncClient(transport=transport, trust_env=False, follow_redirects=True,
                             max_redirects=policy.max_redirects,
                             timeout=httpx.Timeout(policy.timeout), headers=headers)


def local_feed(path: Path, policy: FetchPolicy) -> str | None:
    """Why the local feed file ``path`` (absolute, resolved) may not be read,
    or None when it lies in ``policy.feed_dir``."""
    if policy.feed_dir is None:
        return ("local feed files are read only from [digest] feed_dir, which is not set; "
                "set it to the folder that holds them")
    folder = policy.feed_dir.expanduser().resolve()
    if not path.is_relative_to(folder):
        return f"{path} is outside [digest] feed_dir ({folder}); local feeds are read only there"
    return None


__all__ = ["METADATA_NAMES", "AddressRefused", "FetchPolicy", "address_problem",
           "checked_addresses", "guarded_client", "literal_address", "local_feed",
           "name_problem", "static_refusal"]
