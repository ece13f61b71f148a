"""Keys for personal data: Fernet encryption (through django-encrypted-model-fields for columns,
directly for files) and keyed hashes (HMAC) for exact look-ups of encrypted values."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def fernet() -> MultiFernet:
    """All configured keys, newest first: encrypts with the first, decrypts with any."""
    keys = settings.FIELD_ENCRYPTION_KEY
    if isinstance(keys, str):
        keys = [keys]
    return MultiFernet([Fernet(k) for k in keys])


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA256 of an already normalised value; `purpose` keeps columns from matching each other."""
    key = settings.FIELD_HASH_KEY.encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    """Digits with an optional leading +; '00' is the same international prefix as '+'."""
    value = value.strip()
    digits = re.sub(r"\D", "", value)
    if value.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits


def normalise_member_number(value: str) -> str:
    return value.strip().upper()


def name_tokens(*names: str) -> list[str]:
    """Whole words of a name, case- and accent-folded ('Søren-Åse' -> ['soren', 'ase']); 'ø', 'æ'
    and 'å' fold as a Dane or Norwegian typing on an English keyboard would."""
    text = " ".join(n for n in names if n).casefold()
    text = text.replace("ø", "o").replace("æ", "ae").replace("å", "a").replace("ß", "ss")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return [t for t in re.split(r"[^a-z0-9]+", text) if t]


NAME_TOKEN_HEX = 16


def name_token_hash(token: str) -> str:
    # Truncated on purpose: a search then re-checks the decrypted names, and short hashes give
    # a reader of the database even less to correlate.
    return keyed_hash("name", token)[:NAME_TOKEN_HEX]
