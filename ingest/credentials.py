"""Keep camera credentials out of logs, errors, metrics and status output.

FFmpeg echoes the URL it was given in its error messages (`... 'rtsp://user:pw@host/x'`), so every
text that may carry a URL passes through `redact` before it is logged or raised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s'\"]*)@")


def _split_userinfo(url: str) -> tuple[str, str, str] | None:
    """(scheme://, userinfo, rest) when `url` carries credentials, else None.

    The authority ends at the first `/`; credentials end at its last `@` (so an unescaped `@` inside a
    password still counts as password).
    """
    head, sep, tail = url.partition("://")
    if not sep:
        return None
    authority = tail.split("/", 1)[0]
    if "@" not in authority:
        return None
    userinfo, _, _ = authority.rpartition("@")
    return head + sep, userinfo, tail[len(userinfo) + 1 :]


def mask_url(url: str) -> str:
    """`rtsp://user:pw@host:554/x?token=1` -> `rtsp://***@host:554/x`: no credentials, no query string.

    Query strings are dropped too because some cameras take tokens there. File paths come back unchanged.
    """
    if "://" not in url:
        return url
    parts = _split_userinfo(url)
    masked = url if parts is None else f"{parts[0]}***@{parts[2]}"
    return masked.split("?", 1)[0]


def secrets_of(url: str) -> list[str]:
    """The sensitive pieces of a URL (user:password, password, query string), longest first."""
    out: list[str] = []
    parts = _split_userinfo(url)
    if parts is not None and parts[1]:
        userinfo = parts[1]
        out.append(userinfo)
        if ":" in userinfo:
            password = userinfo.split(":", 1)[1]
            out += [password, unquote(password)]
    if "?" in url and "://" in url:
        out.append(url.split("?", 1)[1])
    # Longest first, so a password inside a longer secret is not left half-replaced.
    return sorted({s for s in out if s}, key=len, reverse=True)


def redact(text: str, urls: Iterable[str] = ()) -> str:
    """`text` with every URL's userinfo masked and every known secret of `urls` replaced by `***`."""
    out = _USERINFO.sub(lambda m: m.group("scheme") + "***@", text)
    for url in urls:
        for secret in secrets_of(url):
            if len(secret) >= 3:  # a one- or two-letter password would mangle ordinary words
                out = out.replace(secret, "***")
    return out
