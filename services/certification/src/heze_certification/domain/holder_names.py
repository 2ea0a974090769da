"""The keyed hash of a certificate holder's name, kept for ever with the certificate so that
public verification by number and name answers after the holder's data is erased, without
keeping the name. Keyed, because names are few enough to hash them all; bound to the
certificate's number, so that one person's certificates do not share a value."""

from __future__ import annotations

import base64
import hashlib
import hmac


class NameHasher:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def hash(self, certificate_number: str, name: str) -> str:
        message = f"{certificate_number}\n{name.strip()}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def matches(self, certificate_number: str, name: str, hashed: str) -> bool:
        return hmac.compare_digest(self.hash(certificate_number, name), hashed)
