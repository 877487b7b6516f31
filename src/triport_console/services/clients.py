"""Who is on the other end of a request, as sessions and activity events record it.

The address and the User-Agent header are attacker-controlled text that a user later reads in
the console, so they are normalised once, here, before they are stored: the address must parse
as an IP address (else it is not kept), and the user agent loses control characters and is cut
to 512 characters (spec §2.9). Device labels come from a maintained parser (ua-parser, with the
uap-core rules), never from regular expressions of our own.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from ..models import ClientInfo

MAX_USER_AGENT = 512
# C0 and C1 control characters (and DEL): a user agent is one line of printable text.
_CONTROL = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])
# Display names for the parser's families where they differ from what people call them.
_BROWSERS = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Android WebView",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "HeadlessChrome": "Headless Chrome",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Samsung Internet": "Samsung Internet",
}
_SYSTEMS = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}


def client_info(address: str | None, user_agent: str | None) -> ClientInfo:
    return ClientInfo(ip=normalise_ip(address), user_agent=normalise_user_agent(user_agent))


@lru_cache(maxsize=4096)  # the same few addresses, written on every logout and touch
def normalise_ip(address: str | None) -> str | None:
    """The address in its canonical text form, or None when it is not an IP address."""
    if not address or len(address) > 64:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def normalise_user_agent(value: str | None) -> str | None:
    if not value:
        return None
    # Cut before cleaning too, so a 32 KB header costs no more than a short one.
    cleaned = value[: 4 * MAX_USER_AGENT].translate(_CONTROL).strip()[:MAX_USER_AGENT]
    return cleaned or None


@lru_cache(maxsize=2048)
def device_label(user_agent: str | None) -> str | None:
    """A short label such as "Chrome on macOS", or None when the parser knows neither part."""
    if not user_agent:
        return None
    # Imported (and its rules compiled) on the first label, not at start: only the session
    # and activity lists need it, and every worker would otherwise pay for it while starting.
    import ua_parser

    parsed = ua_parser.parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    browser = _BROWSERS.get(browser, browser) if browser and browser != "Other" else None
    system = _SYSTEMS.get(system, system) if system and system != "Other" else None
    if browser and system:
        return f"{browser} on {system}"
    return browser or system
