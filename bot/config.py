"""Settings, read only from the environment (and an optional ``.env`` file).

Every variable is listed in the README; with nothing set, the bot runs on a SQLite
file and the embedded NLU.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting has a value the bot cannot use."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def _secret(raw: str | None) -> str | None:
    if not raw:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", raw):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return raw


def _origins(raw: str | None) -> tuple[str, ...]:
    """Parse ``WEBCHAT_ALLOWED_ORIGINS``: ``*`` or comma-separated ``scheme://host[:port]``."""
    origins = []
    for part in (raw or "").split(","):
        origin = part.strip().rstrip("/")
        if not origin:
            continue
        if origin != "*" and not re.fullmatch(r"https?://[^/\s?#]+", origin):
            raise ConfigError(
                f"WEBCHAT_ALLOWED_ORIGINS: {origin!r} is not an origin like https://shop.example"
            )
        origins.append(origin.lower())
    return tuple(origins)


@dataclass(frozen=True, slots=True)
class Settings:
    """The bot's configuration."""

    database_url: str = "sqlite:///data/xoobay-bot.db"
    database_pool_size: int = 10
    database_pool_timeout: float = 10.0
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    nlu_backend: str = "embedded"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout: float = 2.0
    nlu_model_path: Path = ROOT / "data" / "nlu-model.npz"
    nlu_data_dir: Path = ROOT / "nlu_data"
    nlu_threshold: float = 0.5
    locales_dir: Path = ROOT / "locales"
    max_message_length: int = 4000
    telegram_bot_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    redis_url: str | None = None
    rate_limit_per_conversation: int = 30
    rate_limit_per_address: int = 600
    rate_limit_agent_login: int = 10
    order_backend: str = "sql"
    order_api_url: str | None = None
    order_api_token: str | None = None
    order_api_timeout: float = 5.0
    order_api_retries: int = 2
    webchat_identity_secret: str | None = None
    webchat_allowed_origins: tuple[str, ...] = ()
    webchat_heartbeat: float = 15.0
    agent_session_hours: float = 12.0
    agent_offline_seconds: int = 120
    handoff_minutes_per_ticket: int = 5

    @property
    def webhook_secret(self) -> str:
        """The webhook's secret token: set, or derived from the bot token.

        Derived, every process behind a load balancer agrees on it without more
        configuration; it uses only the characters Telegram allows.
        """
        if self.telegram_webhook_secret:
            return self.telegram_webhook_secret
        return hashlib.sha256(f"webhook:{self.telegram_bot_token}".encode()).hexdigest()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: ``.env`` overlaid by the process env).

        Raises:
            ConfigError: A value cannot be used.
        """
        if env is None:
            env = {k: v for k, v in dotenv_values(".env").items() if v is not None} | dict(
                os.environ
            )
        backend = (env.get("NLU_BACKEND") or "embedded").lower()
        if backend not in ("embedded", "rasa"):
            raise ConfigError(f"NLU_BACKEND must be 'embedded' or 'rasa', not {backend!r}")
        order_api_url = env.get("ORDER_API_URL") or None
        order_backend = (env.get("ORDER_BACKEND") or ("http" if order_api_url else "sql")).lower()
        if order_backend not in ("sql", "http"):
            raise ConfigError(f"ORDER_BACKEND must be 'sql' or 'http', not {order_backend!r}")
        if order_backend == "http" and not order_api_url:
            raise ConfigError("ORDER_BACKEND=http needs ORDER_API_URL")
        if order_api_url and not re.match(r"https?://[^/\s]+", order_api_url):
            raise ConfigError(f"ORDER_API_URL must be an http(s) URL, not {order_api_url!r}")
        defaults = cls()
        heartbeat = _float(env, "WEBCHAT_HEARTBEAT_SECONDS", defaults.webchat_heartbeat)
        if not 0 < heartbeat <= 300:
            raise ConfigError("WEBCHAT_HEARTBEAT_SECONDS must be between 0 and 300 seconds")
        pool_size = _int(env, "DATABASE_POOL_SIZE", defaults.database_pool_size)
        pool_timeout = _float(env, "DATABASE_POOL_TIMEOUT", defaults.database_pool_timeout)
        if pool_size < 1 or pool_timeout <= 0:
            raise ConfigError("DATABASE_POOL_SIZE must be at least 1, DATABASE_POOL_TIMEOUT over 0")
        return cls(
            database_url=env.get("DATABASE_URL") or defaults.database_url,
            database_pool_size=pool_size,
            database_pool_timeout=pool_timeout,
            host=env.get("HOST") or defaults.host,
            port=_int(env, "PORT", defaults.port),
            log_level=(env.get("LOG_LEVEL") or defaults.log_level).upper(),
            nlu_backend=backend,
            rasa_url=env.get("RASA_URL") or defaults.rasa_url,
            rasa_timeout=_float(env, "RASA_TIMEOUT", defaults.rasa_timeout),
            nlu_model_path=Path(env.get("NLU_MODEL_PATH") or defaults.nlu_model_path),
            nlu_data_dir=Path(env.get("NLU_DATA_DIR") or defaults.nlu_data_dir),
            nlu_threshold=_float(env, "NLU_THRESHOLD", defaults.nlu_threshold),
            locales_dir=Path(env.get("LOCALES_DIR") or defaults.locales_dir),
            max_message_length=_int(env, "MAX_MESSAGE_LENGTH", defaults.max_message_length),
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_base_url=env.get("TELEGRAM_BASE_URL") or defaults.telegram_base_url,
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            telegram_webhook_secret=_secret(env.get("TELEGRAM_WEBHOOK_SECRET")),
            redis_url=env.get("REDIS_URL") or None,
            rate_limit_per_conversation=_int(
                env, "RATE_LIMIT_PER_CONVERSATION", defaults.rate_limit_per_conversation
            ),
            rate_limit_per_address=_int(
                env, "RATE_LIMIT_PER_ADDRESS", defaults.rate_limit_per_address
            ),
            rate_limit_agent_login=_int(
                env, "RATE_LIMIT_AGENT_LOGIN", defaults.rate_limit_agent_login
            ),
            order_backend=order_backend,
            order_api_url=order_api_url,
            order_api_token=env.get("ORDER_API_TOKEN") or None,
            order_api_timeout=_float(env, "ORDER_API_TIMEOUT", defaults.order_api_timeout),
            order_api_retries=_int(env, "ORDER_API_RETRIES", defaults.order_api_retries),
            webchat_identity_secret=env.get("WEBCHAT_IDENTITY_SECRET") or None,
            webchat_allowed_origins=_origins(env.get("WEBCHAT_ALLOWED_ORIGINS")),
            webchat_heartbeat=heartbeat,
            agent_session_hours=_float(env, "AGENT_SESSION_HOURS", defaults.agent_session_hours),
            agent_offline_seconds=_int(
                env, "AGENT_OFFLINE_SECONDS", defaults.agent_offline_seconds
            ),
            handoff_minutes_per_ticket=_int(
                env, "HANDOFF_MINUTES_PER_TICKET", defaults.handoff_minutes_per_ticket
            ),
        )
