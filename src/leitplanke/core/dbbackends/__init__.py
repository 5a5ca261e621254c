"""Database backends: Django's own, with Leitplanke's connection handling (see postgresql)."""
