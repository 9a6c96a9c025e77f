"""The Telegram bot: python-telegram-bot handlers over an Answerer (in-process or HTTP)."""

from __future__ import annotations

from .errors import BotConfigError, BotError, MissingTokenError, ServiceError, ServiceUnavailableError

__all__ = ["BotConfigError", "BotError", "MissingTokenError", "ServiceError", "ServiceUnavailableError"]
