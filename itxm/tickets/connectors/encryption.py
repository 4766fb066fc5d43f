"""Connector secrets (passwords, API tokens) encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from ``ITXM_ENCRYPTION_KEY`` when set, else it is derived from Django's SECRET_KEY. Several
keys may be given, comma separated: the first encrypts, all decrypt, so a key can be rotated by putting
the new one first and saving each connector's secret again. The SECRET_KEY-derived key always decrypts
too, so moving from it to an explicit key loses nothing.
"""

import base64
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

ENV_KEY = "ITXM_ENCRYPTION_KEY"


class SecretUnreadable(ValueError):
    """The stored secret was encrypted with a key this installation no longer has."""


def _derive(material: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"itxm-connector-secrets", info=b"fernet")
    return base64.urlsafe_b64encode(hkdf.derive(material.encode()))


def _as_fernet_key(configured: str) -> bytes:
    # A proper Fernet key (Fernet.generate_key()) is used as it is; any other phrase is stretched into one.
    try:
        Fernet(configured.encode())
        return configured.encode()
    except ValueError:
        return _derive(configured)


def _keys() -> list[bytes]:
    configured = [part.strip() for part in os.environ.get(ENV_KEY, "").split(",") if part.strip()]
    keys = [_as_fernet_key(part) for part in configured]
    keys.append(_derive(settings.SECRET_KEY))
    return keys


def encrypt(plaintext: str) -> str:
    return MultiFernet([Fernet(key) for key in _keys()]).encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return MultiFernet([Fernet(key) for key in _keys()]).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            f"the stored secret cannot be decrypted with this installation's keys ({ENV_KEY} or SECRET_KEY "
            "changed?): enter it again in the admin"
        ) from None
