"""Configuration that cannot work is refused when the client is built, with a typed error.

Without these checks a bad setting surfaces late and untyped: a base URL without a scheme as
aiohttp's ``ValueError`` inside the retry logger, a key read from a file with its trailing
newline as "Forbidden control character detected in headers" at the first request,
credentials both in the URL and as a key as "Cannot combine AUTHORIZATION header ...".
Messages name the setting, never its secret value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from yarl import URL

from .._exceptions import ConfigurationError

__all__ = [
    "check_api_key",
    "check_base_url",
    "check_credentials",
    "check_headers",
    "check_text",
    "has_userinfo",
    "masked_url",
]

# RFC 9110 §5.6.2: a header name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Control characters other than horizontal tab end or split a header line (CR, LF, NUL ...).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LINE_BREAK_HINT = "a line break or other control character (a trailing newline from a file?)"


def masked_url(url: str | URL) -> str:
    """``url`` with any user name and password replaced by ``***`` (for reprs and messages).

    >>> masked_url("http://user:secret@proxy:3128/v1")
    'http://***:***@proxy:3128/v1'
    """
    parsed = URL(url) if isinstance(url, str) else url
    if not parsed.is_absolute() or (parsed.raw_user is None and parsed.raw_password is None):
        return str(parsed)
    return str(parsed.with_user("***").with_password("***" if parsed.password else None))


def check_base_url(base_url: str) -> str:
    """The base URL without its trailing slash; an absolute ``http(s)://`` URL with a host.

    >>> check_base_url("http://127.0.0.1:8765/v1/")
    'http://127.0.0.1:8765/v1'
    >>> check_base_url("127.0.0.1:8765/v1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    oxide_rx._exceptions.ConfigurationError: base_url must start with http:// or https://, ...
    """
    if _CONTROL.search(base_url):
        raise ConfigurationError(f"base_url contains {_LINE_BREAK_HINT}")
    try:
        parsed = URL(base_url.strip())
    except (ValueError, TypeError):
        raise ConfigurationError("base_url is not a URL") from None
    if parsed.scheme not in ("http", "https"):
        hint = "" if "://" in base_url else f" (did you mean 'http://{base_url.strip()}'?)"
        shown = masked_url(parsed) if parsed.is_absolute() else base_url
        raise ConfigurationError(
            f"base_url must start with http:// or https://, got {shown!r}{hint}"
        )
    if not parsed.host:
        raise ConfigurationError(f"base_url has no host: {base_url.strip()!r}")
    return str(parsed).rstrip("/")


def check_text(value: str, setting: str) -> None:
    """A value sent in a header line has no control character (CR and LF split the line)."""
    if _CONTROL.search(value):
        raise ConfigurationError(f"{setting} contains {_LINE_BREAK_HINT}")


def check_api_key(api_key: str | None) -> None:
    """An API key is a printable ASCII token (keys are; a pasted '…' or newline is not)."""
    if api_key is None:
        return
    check_text(api_key, "The API key")
    if not api_key.isascii() or not api_key.isprintable():
        raise ConfigurationError("The API key contains characters that are not printable ASCII")


def check_headers(headers: Mapping[str, str], setting: str) -> None:
    """Header names are tokens and values have no control characters."""
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ConfigurationError(f"{setting}: {name!r} is not a valid header name")
        if not isinstance(value, str):
            raise ConfigurationError(f"{setting}: the value of {name!r} is not a string")
        check_text(value, f"{setting}: the value of {name!r}")


def has_userinfo(base_url: str) -> bool:
    """Whether the URL carries a user name or password (aiohttp sends them as Basic auth)."""
    parsed = URL(base_url)
    return parsed.raw_user is not None or parsed.raw_password is not None


def check_credentials(base_url: str, headers: Mapping[str, str]) -> None:
    """Credentials in the URL (Basic auth) and an ``Authorization`` header cannot both be
    sent: refuse the pair instead of letting aiohttp fail at the first request."""
    if has_userinfo(base_url) and any(name.lower() == "authorization" for name in headers):
        raise ConfigurationError(
            "base_url carries credentials (user:password@) and an API key or Authorization "
            "header is set too: use one of them"
        )
