"""Which proxy a request goes through: an explicit ``proxy=``, else the environment.

The environment is read the way the official client reads it (httpx with ``trust_env``, over
``urllib.request.getproxies``): ``HTTPS_PROXY`` for ``https://`` URLs, ``HTTP_PROXY`` for
``http://``, ``ALL_PROXY`` for both, lower-case names winning over upper-case, and
``NO_PROXY`` (curl's rules) to bypass them:

- ``*`` bypasses every proxy;
- ``example.com`` matches the domain and its subdomains, ``.example.com`` and
  ``*.example.com`` only subdomains;
- ``localhost``, an IP address (``127.0.0.1``, ``::1``) or a network (``10.0.0.0/8``)
  matches that host or network;
- ``host:port`` also requires the port; ``scheme://host`` also the scheme.

WebSocket URLs use the proxy of their HTTP counterpart (``wss://`` → ``HTTPS_PROXY``).
An explicit ``proxy=`` is used for every URL and the environment is ignored, NO_PROXY
included (as with the official client). ``trust_env=False`` ignores the environment.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from yarl import URL

from .._exceptions import ConfigurationError
from .validation import check_text

__all__ = ["ProxySettings"]

_HTTP_SCHEME = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_DEFAULT_PORT = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """The proxies of one client: ``explicit`` for everything, or per scheme from the
    environment with its bypass list.

    >>> settings = ProxySettings.from_env({"https": "proxy:3128", "no": "internal.example"})
    >>> settings.proxy_for("https://api.openai.com/v1/responses")
    'http://proxy:3128'
    >>> settings.proxy_for("https://llm.internal.example/v1") is None
    True
    """

    explicit: str | None = None
    by_scheme: Mapping[str, str] | None = None
    bypass: tuple[str, ...] = ()

    @classmethod
    def configure(cls, proxy: str | None, trust_env: bool) -> ProxySettings:
        """The settings for ``proxy=`` and ``trust_env=`` (the environment is read now)."""
        if proxy is not None:
            return cls(explicit=_checked(proxy, "proxy"))
        if not trust_env:
            return cls()
        return cls.from_env(urllib.request.getproxies())

    @classmethod
    def from_env(cls, found: Mapping[str, str]) -> ProxySettings:
        """Settings from ``urllib.request.getproxies()``-style entries (``http``, ``https``,
        ``all``, ``no``)."""
        bypass = tuple(entry.strip() for entry in found.get("no", "").split(",") if entry.strip())
        by_scheme = {
            scheme: _checked(found[scheme], f"the {scheme.upper()}_PROXY environment variable")
            for scheme in ("http", "https", "all")
            if found.get(scheme)
        }
        return cls(by_scheme=by_scheme, bypass=bypass)

    def proxy_for(self, url: str | URL) -> str | None:
        """The proxy URL (credentials included: never log it) for a request to ``url``."""
        if self.explicit is not None:
            return self.explicit
        if not self.by_scheme:
            return None
        target = URL(url) if isinstance(url, str) else url
        scheme = _HTTP_SCHEME.get(target.scheme)
        if scheme is None or any(_bypassed(entry, target, scheme) for entry in self.bypass):
            return None
        return self.by_scheme.get(scheme) or self.by_scheme.get("all")


def _checked(proxy: str, setting: str) -> str:
    """A proxy URL aiohttp can use (``http://`` or ``https://``), ``http://`` if unsaid."""
    check_text(proxy, setting)
    proxy = proxy.strip()
    if "://" not in proxy:
        proxy = f"http://{proxy}"  # what urllib and httpx assume
    try:
        parsed = URL(proxy)
    except (ValueError, TypeError):
        raise ConfigurationError(f"{setting} is not a URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"{setting} must be an http:// or https:// proxy with a host "
            f"(scheme {parsed.scheme!r} is not supported); pass trust_env=False to ignore "
            "the environment"
        )
    return proxy


def _bypassed(entry: str, target: URL, scheme: str) -> bool:
    """Whether one NO_PROXY entry matches ``target`` (curl's rules, as httpx applies them)."""
    if entry == "*":
        return True
    host = (target.host or "").lower()
    port = target.port or _DEFAULT_PORT.get(scheme)
    if "://" in entry:
        try:
            pattern = URL(entry)
        except ValueError:
            return False
        if _HTTP_SCHEME.get(pattern.scheme) != scheme:
            return False
        return (pattern.host or "").lower() == host and (
            pattern.explicit_port is None or pattern.explicit_port == port)
    network = _network(entry)
    if network is not None:
        try:
            return ipaddress.ip_address(host.strip("[]")) in network
        except ValueError:
            return False
    name, want_port = _split_port(entry.lower())
    if want_port is not None and want_port != port:
        return False
    if name.startswith("*."):
        return host.endswith(name[1:])
    if name.startswith("."):
        return host.endswith(name)
    if "/" in name or not name:
        return False  # not a host: ignored, as curl and httpx do
    return host == name or host.endswith("." + name)


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An IP address or CIDR network entry (``10.0.0.0/8``, ``::1``, ``[::1]``), else None."""
    try:
        return ipaddress.ip_network(entry.strip("[]").replace("]/", "/"), strict=False)
    except ValueError:
        return None


def _split_port(entry: str) -> tuple[str, int | None]:
    name, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, int(port)
    return entry, None
