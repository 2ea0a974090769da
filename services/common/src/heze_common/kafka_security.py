"""How a service authenticates to a secured Kafka cluster (TLS, SASL/SCRAM), from its settings.

The embedded broker and test clusters use PLAINTEXT; Strimzi listeners use SASL_SSL with
SCRAM-SHA-512 and the cluster CA.
"""

from __future__ import annotations

import ssl
from typing import Any

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from heze_common.settings import ServiceSettings

SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def _ssl_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    return ssl.create_default_context(cafile=cafile)


def faststream_security(settings: ServiceSettings) -> BaseSecurity | None:
    """The `security` argument of FastStream's KafkaBroker."""
    context = _ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL"):
        if not (settings.kafka_sasl_username and settings.kafka_sasl_password):
            raise ValueError(
                f"{settings.kafka_security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return SASL[settings.kafka_sasl_mechanism](  # type: ignore[index]
            settings.kafka_sasl_username or "",
            settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else "",
            ssl_context=context,
        )
    return BaseSecurity(ssl_context=context) if context else None


def aiokafka_options(settings: ServiceSettings) -> dict[str, Any]:
    """Keyword arguments for aiokafka clients (the admin client that creates topics)."""
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if (context := _ssl_context(settings)) is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password.get_secret_value()
            if settings.kafka_sasl_password
            else None,
        )
    return options
