"""The event store's cipher, with a key ring so that its key can be rotated.

Stored events are AES-GCM encrypted under `CIPHER_KEY`, and each ciphertext names the key that
made it (the first 8 bytes of the key's SHA-256). Rotating the key is configuration only: the new
key becomes `CIPHER_KEY`, the old one goes to `RETIRED_CIPHER_KEYS`, and every event stays
readable, old ones under the key they name, new ones under the new key. Events written before
key ids existed (the library's `AESCipher` layout: nonce, tag, ciphertext) are read under
whichever configured key opens them.
"""

from __future__ import annotations

import hashlib
import os
from base64 import b64decode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment

MARKER = b"\x00HZK"
"""Starts a ciphertext that names its key; then the key id, the nonce and AES-GCM's output."""
KEY_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:KEY_ID_BYTES]


class KeyRingCipher(Cipher):
    """Encrypts under `CIPHER_KEY`; decrypts under it or any of `RETIRED_CIPHER_KEYS` (base64,
    comma-separated), as the ciphertext names."""

    def __init__(self, environment: Environment):
        current = environment.get("CIPHER_KEY")
        if not current:
            raise OSError("'CIPHER_KEY' not in env")
        retired = [k for k in environment.get("RETIRED_CIPHER_KEYS", "").split(",") if k.strip()]
        raw_keys = [b64decode(text.strip()) for text in (current, *retired)]
        for raw in raw_keys:
            if len(raw) not in (16, 24, 32):
                raise ValueError(f"an AES key is 16, 24 or 32 bytes, not {len(raw)}")
        self.keys = {key_id(raw): AESGCM(raw) for raw in raw_keys}
        self.current_id = key_id(raw_keys[0])
        self.current = self.keys[self.current_id]

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return MARKER + self.current_id + nonce + self.current.encrypt(nonce, plaintext, None)

    def decrypt(self, ciphertext: bytes) -> bytes:
        named = ciphertext[len(MARKER) : len(MARKER) + KEY_ID_BYTES]
        if ciphertext.startswith(MARKER) and named in self.keys:
            body = ciphertext[len(MARKER) + KEY_ID_BYTES :]
            try:
                return self.keys[named].decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], None)
            except InvalidTag as error:
                raise ValueError("Invalid cipher tag") from error
        for key in self.keys.values():  # written before ciphertexts named their key
            plaintext = self._legacy(key, ciphertext)
            if plaintext is not None:
                return plaintext
        if ciphertext.startswith(MARKER):
            raise ValueError(f"encrypted under key {named.hex()}, which is not configured")
        raise ValueError("no configured key opens this ciphertext")

    @staticmethod
    def _legacy(key: AESGCM, ciphertext: bytes) -> bytes | None:
        nonce = ciphertext[:NONCE_BYTES]
        tag = ciphertext[NONCE_BYTES : NONCE_BYTES + TAG_BYTES]
        if len(nonce) != NONCE_BYTES or len(tag) != TAG_BYTES:
            return None
        try:
            return key.decrypt(nonce, ciphertext[NONCE_BYTES + TAG_BYTES :] + tag, None)
        except InvalidTag:
            return None
