"""Leitplanke: complaint and case management for regulated service organisations."""

__version__ = "0.1.0"
