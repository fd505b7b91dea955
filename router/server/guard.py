"""What a web page could send, refused before anything else runs, on every endpoint.

A page the user visits can POST to http://127.0.0.1:3456 without a CORS preflight when the body is `text/plain`,
a form or multipart ("simple requests"), and a DNS-rebinding page reaches the router under its own host name and
reads the answers. Claude Code, the SDKs and the user's tools send neither an `Origin` nor such bodies, and they
name the router by a loopback address. So:

- an `Origin` other than the router's own (a loopback host on the port it serves) or one in ALLOWED_ORIGINS
  is refused (browsers send it on every cross-origin POST, and on every fetch of an API);
- a POST whose body is not JSON is refused;
- a `Host` that is neither a loopback name nor the bound address nor in ALLOWED_HOSTS is refused (a rebinding
  page's requests carry the attacker's name);
- with no APIKEY, a client that is not on this machine is refused.

The check reads the raw header list once; answers per Host value are cached.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from router.config.schema import Config
from router.wire.errors import PermissionDenied, ProxyError, Unauthorized, UnsupportedMediaType

_WILDCARD = ("0.0.0.0", "::", "")
_BODY_METHODS = ("POST", "PUT", "PATCH")
_CACHE_MAX = 256


def is_loopback(host: str) -> bool:
    """A name or address that only reaches this machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: resolved to loopback, never by DNS
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def split_host(value: str) -> tuple[str, int | None]:
    """`host[:port]` or `[v6][:port]` → (lower-case host, port); ValueError when it is neither (a port that is
    not a number, text after the brackets: no client sends those, a forged header might)."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(value)
        port = rest[1:]
    else:
        host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    if port and not (port.isdigit() and port.isascii()):
        raise ValueError(value)
    return host.rstrip("."), int(port) if port else None


class Guard:
    def __init__(self, config: Config) -> None:
        self.origins = frozenset(config.allowed_origins)
        self.hosts = frozenset(config.allowed_hosts)
        bind = config.host.strip("[]").lower()
        self.any_ip = bind in _WILDCARD  # bound to every address: clients may use any of the machine's IPs
        self.bind = bind
        self.keyed = bool(config.apikey)
        self._host_ok: dict[bytes, bool] = {}

    def check(self, scope: dict[str, Any]) -> ProxyError | None:
        """The refusal for this request, or None to serve it."""
        host = origin = ctype = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"origin":
                origin = value
            elif name == b"content-type":
                ctype = value
        if host is not None and not self._host_allowed(host):
            return PermissionDenied(
                f"Host {host.decode('latin-1')!r} is not one ccr answers to: only loopback names (127.0.0.1, "
                "localhost) and the bound address are, which keeps DNS-rebinding web pages out. If clients reach "
                "ccr by this name, add it to ALLOWED_HOSTS in the config.")
        if origin is not None and not self._origin_allowed(origin, scope):
            return PermissionDenied(
                f"requests from web pages are refused (Origin {origin.decode('latin-1')!r}): a page must not spend "
                "your provider keys. If a page of yours should use ccr, add its origin to ALLOWED_ORIGINS in the "
                "config.")
        if scope["method"] in _BODY_METHODS and not _is_json(ctype):
            return UnsupportedMediaType(
                f"Content-Type {ctype.decode('latin-1') if ctype else '(none)'} is refused: send the body as JSON "
                "with Content-Type: application/json (browsers can send other types from any web page)")
        if not self.keyed:
            client = scope.get("client")
            if client and not is_loopback(client[0]):
                return Unauthorized("this router has no APIKEY, so it serves only programs on its own machine; "
                                    "set APIKEY in the config and send it as x-api-key or Authorization: Bearer")
        return None

    def _host_allowed(self, value: bytes) -> bool:
        known = self._host_ok.get(value)
        if known is None:
            try:
                host, _port = split_host(value.decode("latin-1"))
            except ValueError:
                return False
            known = (is_loopback(host) or host == self.bind or host in self.hosts
                     or (self.any_ip and _ip_literal(host)))
            if len(self._host_ok) < _CACHE_MAX:
                self._host_ok[value] = known
        return known

    def _origin_allowed(self, value: bytes, scope: dict[str, Any]) -> bool:
        origin = value.decode("latin-1").strip().lower().rstrip("/")
        if origin in self.origins:
            return True
        scheme, sep, rest = origin.partition("://")
        if not sep or scheme != "http":
            return False  # "null" (sandboxed frames, file: pages) and https pages are never the router itself
        try:
            host, port = split_host(rest)
        except ValueError:
            return False
        server = scope.get("server")
        own_port = server[1] if server else None
        return is_loopback(host) and (port or 80) == own_port


def _is_json(ctype: bytes | None) -> bool:
    if not ctype:
        return False
    media = ctype.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))
