"""Encryption of stored secrets (mailbox passwords) with a key derived from the secret key.

Rotating LEITPLANKE_SECRET_KEY makes stored secrets unreadable: they must be entered again
(the mailbox page says so when decryption fails)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(Exception):
    pass


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"leitplanke.secrets:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("the stored secret cannot be decrypted (was the secret key changed?)") from error
