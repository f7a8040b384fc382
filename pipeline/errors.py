"""Errors raised by stages: each carries a stable snake_case reason code.

A stage raises :class:`StageError` (or a subclass) when one message cannot go on. The stream
layer catches it per message and routes the original bytes to the dead-letter topic with
``reason`` as its code, so the reason strings below are part of the public contract: they are
listed in ``schemas/dead_letter.schema.json`` and in the README.
"""

from __future__ import annotations

# Stable reason codes (dead-letter contract). Keep in sync with schemas/dead_letter.schema.json.
MALFORMED_JSON = "malformed_json"
INVALID_ENCODING = "invalid_encoding"
SCHEMA_INVALID = "schema_invalid"
OVERSIZE = "oversize"
EMPTY_BODY = "empty_body"
EMPTY_AFTER_CLEANING = "empty_after_cleaning"
UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
INTERNAL_ERROR = "internal_error"

REASON_CODES: tuple[str, ...] = (
    MALFORMED_JSON,
    INVALID_ENCODING,
    SCHEMA_INVALID,
    OVERSIZE,
    EMPTY_BODY,
    EMPTY_AFTER_CLEANING,
    UNSUPPORTED_CONTENT_TYPE,
    INTERNAL_ERROR,
)


class StageError(Exception):
    """One message cannot be processed by a stage.

    ``reason`` is a stable code from :data:`REASON_CODES`; ``stage`` names the stage that
    raised it (``decode``, ``clean``, ``dedup``, ``enrich``, ``emit``); ``detail`` is the
    human-readable explanation shown by the CLI and stored in the dead letter.
    """

    def __init__(self, reason: str, detail: str, *, stage: str = "unknown") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.stage = stage


class ConfigError(Exception):
    """The settings are inconsistent or a required resource is missing."""
