"""Parsers: raw platform mail to a frozen `Notice` (DESIGN 4.1). See `pipeline` for the steps."""

from maild.parsers.notice import Notice
from maild.parsers.pipeline import parse_message

__all__ = ["Notice", "parse_message"]
