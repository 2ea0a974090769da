"""The console's settings, read from the environment (12-factor) like the services' own."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from heze_common import keyfiles
from heze_common.settings import TokenSettings, require_set

SERVICES = ("enrollment", "assessment", "certification", "subsidy")


class ConsoleSettings(TokenSettings):
    """The console's settings; the services' token settings (`JWT_*`) are read as theirs are."""

    environment: Literal["embedded", "production"] = "embedded"
    http_host: str = "127.0.0.1"
    http_port: int = 8005
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    log_level: str = "INFO"

    enrollment_url: str = "http://127.0.0.1:8001"
    assessment_url: str = "http://127.0.0.1:8002"
    certification_url: str = "http://127.0.0.1:8003"
    subsidy_url: str = "http://127.0.0.1:8004"
    service_timeout_seconds: float = Field(default=30.0, gt=0)

    session_key: SecretStr | None = Field(
        default=None, description="base64 key (32 bytes) signing the session cookie"
    )
    cookie_secure: bool | None = Field(
        default=None, description="Send the session cookie over HTTPS only; default: in production"
    )
    session_idle_minutes: int = Field(default=120, gt=0)
    max_sessions: int = Field(default=10_000, gt=0)
    max_upload_bytes: int = Field(default=2_000_000, gt=0)

    # OpenID Connect sign-in (heze_console.openid); without OIDC_ISSUER, the development sign-in.
    oidc_issuer: str | None = Field(
        default=None, description="The identity provider's issuer URL (its discovery document)"
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid"
    public_url: str | None = Field(
        default=None,
        description="The console's address as browsers reach it (the sign-in's redirect URI is"
        " PUBLIC_URL/sign-in/callback); embedded: http://HTTP_HOST:HTTP_PORT",
    )

    @model_validator(mode="after")
    def _production_needs_real_secrets_and_a_real_sign_in(self) -> ConsoleSettings:
        if self.oidc_issuer is not None:
            require_set(
                "OIDC_ISSUER",
                ("OIDC_CLIENT_ID", self.oidc_client_id),
                ("OIDC_CLIENT_SECRET", self.oidc_client_secret),
            )
            if "openid" not in self.oidc_scopes.split():
                raise ValueError("OIDC_SCOPES must include openid")
        if self.environment == "production":
            require_set(
                "production environment",
                ("SESSION_KEY", self.session_key),
                ("OIDC_ISSUER", self.oidc_issuer),
                ("PUBLIC_URL", self.public_url),
                ("JWT_PUBLIC_KEY_FILE", self.jwt_public_key_file),
            )
            self.ensure_asymmetric_tokens()
            for name, url in (("OIDC_ISSUER", self.oidc_issuer), ("PUBLIC_URL", self.public_url)):
                if not str(url).startswith("https://"):
                    raise ValueError(f"production environment requires {name} to be https://")
        return self

    @property
    def console_url(self) -> str:
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    def service_url(self, service: str) -> str:
        return getattr(self, f"{service}_url").rstrip("/")

    @property
    def secure_cookie(self) -> bool:
        return (
            self.environment == "production" if self.cookie_secure is None else self.cookie_secure
        )

    def resolved_session_key(self) -> str:
        """The cookie-signing key; in the embedded mode one is made once beside the data."""
        if self.session_key is not None:
            text = self.session_key.get_secret_value()
            keyfiles.decode_key(text, name="SESSION_KEY", sizes=(32,))
            return text
        return keyfiles.read_or_create(self.data_dir / "console.session-key")
