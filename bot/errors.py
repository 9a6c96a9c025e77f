"""Errors raised by the bot package; their messages are meant for the operator, never the chat."""

from __future__ import annotations

__all__ = ["BotConfigError", "BotError", "MissingTokenError", "ServiceError", "ServiceUnavailableError"]


class BotError(Exception):
    """Base of every error the bot package raises."""


class BotConfigError(BotError):
    """A bot setting is missing or malformed (webhook URL, secret, base URL)."""


class MissingTokenError(BotConfigError):
    """`TELEGRAM_BOT_TOKEN` is not set, so the bot cannot talk to Telegram."""

    def __init__(self) -> None:
        super().__init__(
            "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram, then "
            "`export TELEGRAM_BOT_TOKEN=123456:ABC...` (or put it in .env) and run `newsbot bot` again."
        )


class ServiceError(BotError):
    """The NewsBot HTTP service answered a request from the bot with an error."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class ServiceUnavailableError(ServiceError):
    """The NewsBot HTTP service could not be reached, timed out, or answered 5xx."""
