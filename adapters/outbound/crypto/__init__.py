"""Encryption at rest: the Cipher port over Fernet, and bulk key rotation."""

from adapters.outbound.crypto.fernet_cipher import ENV_VAR, FernetCipher, generate_key
from adapters.outbound.crypto.rotation import rotate_all

__all__ = ["ENV_VAR", "FernetCipher", "generate_key", "rotate_all"]
