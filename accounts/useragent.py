"""A short, human description of a browser from its User-Agent, for the Sessions page."""

from __future__ import annotations

import re

_BROWSERS = [
    ("Edge", r"Edg/"),
    ("Opera", r"OPR/"),
    ("Firefox", r"Firefox/"),
    ("Chrome", r"Chrome/|CriOS/"),
    ("Safari", r"Safari/"),
]
_SYSTEMS = [
    ("Android", r"Android"),
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux"),
]


def describe(user_agent: str) -> str:
    if not user_agent:
        return "?"
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), None)
    if browser or system:
        return " · ".join(p for p in (browser, system) if p)
    return user_agent[:60]


def is_mobile(user_agent: str) -> bool:
    return bool(re.search(r"Mobile|Android|iPhone|iPad", user_agent or ""))
