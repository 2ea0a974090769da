"""Settings from the environment (12-factor), with defaults that run the embedded mode."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from heze_common import keyfiles
from heze_common.credentials import IssuerKeys
from heze_common.person_keys import MasterKeys
from heze_common.signing import EmbeddedKeyring, Signer, TrustedKeys


def require_set(situation: str, *settings: tuple[str, object]) -> None:
    """Refuse settings that leave any of the named values empty, naming every one missing."""
    missing = [name for name, value in settings if not value]
    if missing:
        raise ValueError(f"{situation} requires {', '.join(missing)}")


class TokenSettings(BaseSettings):
    """How the bearer tokens of the services are checked (`heze_common.auth.TokenVerifier`): by
    the services, and by the console, which reads the same variables. Embedded mode signs with a
    secret shared in the data folder; production verifies with a public key."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    data_dir: Path = Path("data")
    jwt_secret: SecretStr | None = None
    jwt_public_key_file: Path | None = None
    jwt_algorithm: Literal["HS256", "RS256", "ES256", "EdDSA"] = "HS256"
    jwt_issuer: str = "heze-programme"
    jwt_audience: str = "heze-services"
    jwt_max_lifetime_seconds: int = Field(
        default=12 * 3600,
        gt=0,
        description="Longest lifetime (exp - iat) of a token accepted; longer ones are invalid",
    )
    jwt_leeway_seconds: int = Field(
        default=0,
        ge=0,
        le=300,
        description="Clock difference allowed with the token issuer (on exp, iat and nbf)",
    )

    def ensure_asymmetric_tokens(self) -> None:
        """Production verifies tokens with a public key: no secret there could mint one."""
        if self.jwt_algorithm == "HS256":
            raise ValueError("production environment requires an asymmetric JWT_ALGORITHM")

    def resolved_jwt_secret(self) -> str:
        """The HS256 secret; embedded mode shares one file among the services of a data folder."""
        if self.jwt_secret is not None:
            text = self.jwt_secret.get_secret_value()
            if len(text.encode()) < 32:
                raise keyfiles.InvalidKey("JWT_SECRET must be at least 32 bytes")
            return text
        return keyfiles.read_or_create(self.data_dir / "dev-jwt-secret")


class ServiceSettings(TokenSettings):
    """Everything a service process reads from its environment.

    Each service subclasses this only to set its name and HTTP port.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = Field(
        description="Name of the service; names its topics and consumer group"
    )
    environment: Literal["embedded", "production"] = "embedded"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A request's headers must arrive whole within this time"
    )
    data_dir: Path = Path("data")
    log_level: str = "INFO"

    # Event store and read models: the service's own PostgreSQL database. `./heze up` starts an
    # embedded server and sets it (heze_common.postgres_server); in production, CloudNativePG.
    database_url: str | None = Field(
        default=None, description="postgresql://user:password@host:port/db"
    )
    postgres_schema: str | None = None
    postgres_pool_size: int = 5
    postgres_max_overflow: int = 5
    postgres_connect_timeout: int = 5
    create_tables: bool = True
    aggregate_cache_size: int = Field(
        default=2000, description="Aggregates kept in memory (fast-forwarded on read); 0 disables"
    )
    cipher_key: SecretStr | None = Field(
        default=None, description="base64 AES key (16, 24 or 32 bytes)"
    )
    retired_cipher_keys: SecretStr | None = Field(
        default=None,
        description="Earlier cipher keys (base64, comma-separated): events stored under them stay"
        " readable after a rotation",
    )
    person_master_key: SecretStr | None = Field(
        default=None,
        description="base64 32-byte key wrapping each person's data key (heze_common.person_keys)",
    )
    retired_person_master_keys: SecretStr | None = Field(
        default=None,
        description="Earlier person master keys (base64, comma-separated): data keys wrapped under"
        " them stay readable and are re-wrapped under the current one",
    )
    view_rebuild_workers: int = Field(
        default=2,
        ge=1,
        description="Processes that fold the log side by side in a rebuild of the read models"
        " (each about 100 MB while it runs)",
    )

    # Tamper evidence: the Ed25519 key that signs the event log's checkpoints.
    audit_signing_key: SecretStr | None = Field(
        default=None, description="base64 raw 32-byte Ed25519 private key"
    )
    audit_checkpoint_seconds: float = 30.0

    # Messaging. Without KAFKA_BOOTSTRAP_SERVERS the embedded broker is started.
    kafka_bootstrap_servers: str | None = None
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA certificate of the cluster (PEM)"
    )
    kafka_topic_prefix: str = Field(
        default="", description="Prefix of every topic name (shared clusters, tests)"
    )
    kafka_create_topics: bool = True  # production topics come from Strimzi KafkaTopic resources
    kafka_topic_partitions: int = 6
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    kafka_fetch_max_wait_ms: int = Field(
        default=100,
        gt=0,
        description="Longest a fetch waits for data; the embedded broker waits it out in full",
    )
    max_message_bytes: int = 1_000_000
    consumer_max_attempts: int = 5
    consumer_retry_backoff_seconds: float = 0.2
    relay_batch_size: int = 500
    # Signed integration events (heze_common.signing).
    event_signing_key: SecretStr | None = Field(
        default=None, description="base64 raw 32-byte Ed25519 key signing this service's events"
    )
    calls_signing_key: SecretStr | None = Field(
        default=None,
        description="base64 raw 32-byte Ed25519 key signing this service's calls to another's"
        " internal API (a claim check)",
    )
    trusted_keys_file: Path | None = Field(
        default=None, description="JSON trust list of the keys whose messages are believed"
    )
    relay_idle_seconds: float = 0.1

    forwarded_allow_ips: str = Field(
        default="",
        description="The proxies (comma-separated addresses or networks, e.g. the ingress"
        " controller's pod network) whose X-Forwarded-For is believed; empty: none, the peer's"
        " address is the client's",
    )
    identity_claim_key: SecretStr | None = Field(
        default=None,
        description="base64 key (at least 32 bytes) the identity provider hashes verified ID"
        " numbers under for the 'idh' claim",
    )
    public_url: str | None = Field(
        default=None,
        description="The service's address as the public reaches it (names the issuers of its"
        " credentials and their status lists); embedded: http://HTTP_HOST:HTTP_PORT",
    )
    issuer_key_seed: SecretStr | None = Field(
        default=None,
        description="base64 secret (at least 32 bytes) the issuing bodies' credential-signing"
        " keys derive from (heze_common.credentials)",
    )

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> ServiceSettings:
        if self.environment == "production":
            require_set(
                "production environment",
                ("DATABASE_URL", self.database_url),
                ("KAFKA_BOOTSTRAP_SERVERS", self.kafka_bootstrap_servers),
                ("CIPHER_KEY", self.cipher_key),
                ("JWT_PUBLIC_KEY_FILE", self.jwt_public_key_file),
            )
            self.ensure_asymmetric_tokens()
        return self

    def resolved_cipher_key(self) -> str:
        """The AES key; in embedded mode one is created once and kept beside the data."""
        if self.cipher_key is not None:
            text = self.cipher_key.get_secret_value()
            keyfiles.decode_key(text, name="CIPHER_KEY", sizes=(16, 24, 32), min_bytes=16)
            return text
        return keyfiles.read_or_create(self.data_dir / f"{self.service_name}.cipher-key")

    def resolved_retired_cipher_keys(self) -> list[str]:
        """The earlier cipher keys, checked as the current one is."""
        listed = self.retired_cipher_keys.get_secret_value() if self.retired_cipher_keys else ""
        keys = [key.strip() for key in listed.split(",") if key.strip()]
        for n, text in enumerate(keys):
            keyfiles.decode_key(
                text, name=f"RETIRED_CIPHER_KEYS[{n}]", sizes=(16, 24, 32), min_bytes=16
            )
        return keys

    def person_master_keys(self) -> MasterKeys:
        """The master keys of the people's data keys; embedded mode makes the current one once
        under the data folder."""
        if self.person_master_key is not None:
            current = self.person_master_key.get_secret_value()
        elif self.environment == "production":
            raise ValueError(
                "production environment requires PERSON_MASTER_KEY to wrap people's data keys"
            )
        else:
            current = keyfiles.read_or_create(
                self.data_dir / f"{self.service_name}.person-master-key"
            )
        listed = (
            self.retired_person_master_keys.get_secret_value()
            if self.retired_person_master_keys
            else ""
        )
        retired = [key.strip() for key in listed.split(",") if key.strip()]
        return MasterKeys(
            keyfiles.decode_key(current, name="PERSON_MASTER_KEY", sizes=(32,)),
            [
                keyfiles.decode_key(key, name=f"RETIRED_PERSON_MASTER_KEYS[{n}]", sizes=(32,))
                for n, key in enumerate(retired)
            ],
        )

    def resolved_audit_signing_key(self) -> str:
        """The checkpoint signing key; in embedded mode one is created once and kept beside the data."""
        if self.audit_signing_key is not None:
            text = self.audit_signing_key.get_secret_value()
            keyfiles.decode_key(text, name="AUDIT_SIGNING_KEY", sizes=(32,))
            return text
        if self.environment == "production":
            raise ValueError(
                "production environment requires AUDIT_SIGNING_KEY to sign audit checkpoints"
            )
        return keyfiles.read_or_create(self.data_dir / f"{self.service_name}.audit-key")

    def resolved_identity_claim_key(self) -> bytes:
        """The key of the `idh` claim; embedded mode shares one file among the services and the
        development sign-in of a data folder (they stand for the identity provider there)."""
        if self.identity_claim_key is not None:
            return keyfiles.decode_key(
                self.identity_claim_key.get_secret_value(), name="IDENTITY_CLAIM_KEY"
            )
        if self.environment == "production":
            raise ValueError(
                "production environment requires IDENTITY_CLAIM_KEY (shared with the identity"
                " provider) to check trainees' verified identities"
            )
        text = keyfiles.read_or_create(self.data_dir / "dev-identity-claim-key")
        return keyfiles.decode_key(text, name="dev-identity-claim-key")

    def resolved_public_url(self) -> str:
        if self.public_url is not None:
            return self.public_url.rstrip("/")
        if self.environment == "production":
            raise ValueError("production environment requires PUBLIC_URL to name its issuers")
        return f"http://{self.http_host}:{self.http_port}"

    def issuer_keys(self) -> IssuerKeys:
        """The issuing bodies' signing keys; embedded: derived from a seed under the data folder."""
        if self.issuer_key_seed is not None:
            seed = keyfiles.decode_key(
                self.issuer_key_seed.get_secret_value(), name="ISSUER_KEY_SEED"
            )
        elif self.environment == "production":
            raise ValueError("production environment requires ISSUER_KEY_SEED to sign credentials")
        else:
            text = keyfiles.read_or_create(self.data_dir / f"{self.service_name}.issuer-key-seed")
            seed = keyfiles.decode_key(text, name=f"{self.service_name}.issuer-key-seed")
        return IssuerKeys(seed, self.resolved_public_url())

    def event_signer(self, producer: str | None = None) -> Signer:
        """Signs the events this service publishes as `producer` (by default its own name);
        embedded: a key made under the data folder."""
        name = producer or self.service_name
        if self.event_signing_key is not None:
            return Signer.from_base64(name, self.event_signing_key.get_secret_value())
        if self.environment == "production":
            raise ValueError("production environment requires EVENT_SIGNING_KEY to sign events")
        return EmbeddedKeyring(self.data_dir).signer(name)

    def call_signer(self) -> Signer:
        """Signs this service's calls to other services; embedded: a key under the data folder."""
        if self.calls_signing_key is not None:
            return Signer.from_base64(self.service_name, self.calls_signing_key.get_secret_value())
        if self.environment == "production":
            raise ValueError(
                "production environment requires CALLS_SIGNING_KEY to call another service"
            )
        return EmbeddedKeyring(self.data_dir).caller(self.service_name)

    def trusted_keys(self) -> TrustedKeys:
        """The keys whose messages this service believes; embedded: every key of the folder."""
        if self.trusted_keys_file is not None:
            return TrustedKeys.from_file(self.trusted_keys_file)
        if self.environment == "production":
            raise ValueError("production environment requires TRUSTED_KEYS_FILE (the trust list)")
        return EmbeddedKeyring(self.data_dir).trusted()

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment the `eventsourcing` library reads, built explicitly from these settings."""
        return {**self.event_store_env(), **self.postgres_env()}

    def event_store_env(self) -> dict[str, str]:
        """What the event store needs whatever keeps it: the cipher and the cache."""
        return {
            "CIPHER_TOPIC": "heze_common.ciphers:KeyRingCipher",
            "CIPHER_KEY": self.resolved_cipher_key(),
            "RETIRED_CIPHER_KEYS": ",".join(self.resolved_retired_cipher_keys()),
            "CREATE_TABLE": "y" if self.create_tables else "n",
            "AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache_size)
            if self.aggregate_cache_size
            else "",
        }

    def postgres_env(self) -> dict[str, str]:
        if self.database_url is None:
            raise ValueError(
                "DATABASE_URL is not set: a service keeps its events in PostgreSQL"
                " (./heze up starts an embedded server and sets it)"
            )
        url = urlsplit(self.database_url)
        if url.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {url.scheme!r}")
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            # Every event is hash-chained in the transaction that writes it (heze_common.ledger).
            "PROCESS_RECORDER_TOPIC": "heze_common.ledger:ChainingRecorder",
            # Never use the stored functions: they skip the table lock the outbox relies on.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.postgres_max_overflow),
            "POSTGRES_CONNECT_TIMEOUT": str(self.postgres_connect_timeout),
        }
        if self.postgres_schema:
            env["POSTGRES_SCHEMA"] = self.postgres_schema
        return env
