"""Secret stores: the environment and ``.env``, mounted secret files, GCP Secret Manager."""

from adapters.outbound.secrets.dotenv import DotEnvError, load_dotenv, parse_dotenv
from adapters.outbound.secrets.env_store import EnvSecretStore
from adapters.outbound.secrets.errors import SecretAccessDenied, SecretStoreRefused
from adapters.outbound.secrets.file_store import FileSecretStore
from adapters.outbound.secrets.gcp_store import GcpSecretManagerStore
from adapters.outbound.secrets.names import ENV_PREFIX, check_secret_name, env_var_for

__all__ = [
    "ENV_PREFIX",
    "DotEnvError",
    "EnvSecretStore",
    "FileSecretStore",
    "GcpSecretManagerStore",
    "SecretAccessDenied",
    "SecretStoreRefused",
    "check_secret_name",
    "env_var_for",
    "load_dotenv",
    "parse_dotenv",
]
