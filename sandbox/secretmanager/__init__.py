"""A local Google Cloud Secret Manager: the REST calls PayGate's store makes, and the
token endpoints (service-account JWT exchange, metadata server) it gets tokens from."""

from sandbox.secretmanager.emulator import SecretManagerEmulator

__all__ = ["SecretManagerEmulator"]
