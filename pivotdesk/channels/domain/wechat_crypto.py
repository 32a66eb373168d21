"""WeChat / WeCom callback signatures and message encryption (the WXBizMsgCrypt scheme), pure Python.

Plain signature (Official Account URL check and plaintext mode): sha1 of the sorted [token, timestamp, nonce].
Message signature (safe mode, WeCom): sha1 of the sorted [token, timestamp, nonce, encrypt].
Encryption: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to 32-byte blocks,
plaintext = 16 random bytes + 4-byte big-endian length + message + receive id (the app id or the corp id).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


class CryptoError(ValueError):
    """A signature does not match, or an encrypted message cannot be read (wrong key, corrupt, wrong receiver)."""


def plain_signature(token: str, timestamp: str, nonce: str) -> str:
    """The `signature` of the Official Account URL check and plaintext-mode callbacks."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode(), usedforsecurity=False).hexdigest()


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The `msg_signature` over an encrypted payload (safe mode, WeCom)."""
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of hex signatures (case-insensitive)."""
    return hmac.compare_digest(expected.lower().encode(), given.strip().lower().encode("utf-8", "replace"))


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey."""
    try:
        key = base64.b64decode(encoding_aes_key.strip() + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("The EncodingAESKey is not base64.") from exc
    if len(key) != 32:
        raise CryptoError("The EncodingAESKey must decode to 32 bytes (43 characters).")
    return key


def decrypt(encrypt: str, *, encoding_aes_key: str, receive_id: str = "") -> str:
    """Decrypt a callback's `Encrypt` (or `echostr`); checks the receive id when one is given."""
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypt.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("The encrypted message is not base64.") from exc
    if not data or len(data) % 16:
        raise CryptoError("The encrypted message is not a whole number of AES blocks.")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= BLOCK or padded[-pad:] != bytes([pad]) * pad:
        raise CryptoError("Bad padding: wrong EncodingAESKey or corrupt message.")
    plain = padded[:-pad]
    if len(plain) < 20:
        raise CryptoError("The decrypted message is too short.")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise CryptoError("The decrypted message length is out of range.")
    message, receiver = plain[20 : 20 + length], plain[20 + length :]
    if receive_id and receiver.decode("utf-8", "replace") != receive_id:
        raise CryptoError("The message is addressed to another app or corp id.")
    try:
        return message.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CryptoError("The decrypted message is not UTF-8.") from exc


def encrypt(message: str, *, encoding_aes_key: str, receive_id: str, random16: bytes | None = None) -> str:
    """Encrypt a reply (passive reply in safe mode); `random16` only for reproducible tests."""
    key = aes_key(encoding_aes_key)
    body = message.encode()
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + receive_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
