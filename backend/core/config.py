"""Settings in one typed place, read from the environment (see DESIGN.md, "Configuration")."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable. Unset DATABASE_URL / REDIS_URL mean the embedded default."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    # a PostgreSQL streaming replica for the leader desk's reads (README, "A read replica for
    # the leader desk"); unset: they read the primary, DATABASE_URL
    database_read_url: str | None = Field(default=None, alias="DATABASE_READ_URL")
    # the replica's lag above which its badge on the leader's screens turns to a warning
    replica_lag_warn_s: float = Field(default=5.0, gt=0, alias="GRIDWATCH_REPLICA_LAG_WARN")
    policy: str = Field(default="default", alias="GRIDWATCH_POLICY")
    tz: str = Field(default="Asia/Shanghai", alias="GRIDWATCH_TZ")
    var_dir: Path = Field(default=Path("var"), alias="GRIDWATCH_VAR")
    calendar_override: Path | None = Field(default=None, alias="GRIDWATCH_CALENDAR")
    key_prefix: str = Field(default="gw", alias="GRIDWATCH_REDIS_PREFIX")
    # the command stream: partitions by case, each read by one engine under a lease (README,
    # "Engines and the order of commands"); the count is fixed by the first process to start
    partitions: int = Field(default=16, ge=1, le=1024, alias="GRIDWATCH_PARTITIONS")
    lease_ms: int = Field(default=3000, ge=200, le=600_000, alias="GRIDWATCH_LEASE_MS")
    # intake channels (README, "Intake channels")
    duplicate_window_hours: float = Field(default=72.0, alias="GRIDWATCH_DUPLICATE_HOURS")
    duplicate_similarity: float = Field(default=0.3, alias="GRIDWATCH_DUPLICATE_SIMILARITY")
    rate_public: str = Field(default="20/60", alias="GRIDWATCH_RATE_PUBLIC")
    rate_key: str = Field(default="600/60", alias="GRIDWATCH_RATE_KEY")
    # single sign-on (README, "Signing in"): a government's unified identity service by
    # OpenID Connect; unset issuer: local accounts only
    oidc_issuer: str | None = Field(default=None, alias="GRIDWATCH_OIDC_ISSUER")
    oidc_client_id: str | None = Field(default=None, alias="GRIDWATCH_OIDC_CLIENT_ID")
    oidc_client_secret: str | None = Field(default=None, alias="GRIDWATCH_OIDC_CLIENT_SECRET")
    # the public Open311 feed: reads per address per 60 s, and how citizens' text is shown there
    rate_feed: str = Field(default="60/60", alias="GRIDWATCH_RATE_FEED")
    open311_text: Literal["redacted", "none"] = Field(
        default="redacted", alias="GRIDWATCH_OPEN311_TEXT"
    )
    jurisdiction_id: str | None = Field(default=None, alias="GRIDWATCH_JURISDICTION")
    # whether Redis is checked for persistence at start-up (README, "Redis keeps what it
    # acknowledged"): trust only a managed Redis whose CONFIG is hidden and whose provider
    # guarantees append-only persistence
    redis_persistence: Literal["check", "trust"] = Field(
        default="check", alias="GRIDWATCH_REDIS_PERSISTENCE"
    )
    # Redis behind Sentinel (README, "Redis behind Sentinel"): REDIS_URL=redis+sentinel://...;
    # a write counts as acknowledged once this many replicas have it (unset: 1 under
    # Sentinel, 0 otherwise), waiting at most GRIDWATCH_REDIS_WAIT_MS
    redis_wait_replicas: int | None = Field(
        default=None, ge=0, le=16, alias="GRIDWATCH_REDIS_WAIT_REPLICAS"
    )
    redis_wait_ms: int = Field(default=1000, ge=10, le=60_000, alias="GRIDWATCH_REDIS_WAIT_MS")
    # bounded waits on PostgreSQL (README, "When the database is stuck"): a statement, a lock,
    # a connection from the pool; past them a request is a 503 with Retry-After, not a hang
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=0, alias="GRIDWATCH_DB_STATEMENT_TIMEOUT_MS"
    )
    db_lock_timeout_ms: int = Field(default=3_000, ge=0, alias="GRIDWATCH_DB_LOCK_TIMEOUT_MS")
    db_pool_timeout_s: float = Field(default=3.0, gt=0, alias="GRIDWATCH_DB_POOL_TIMEOUT")
    # how far in the future a client's clock may put a time it sends (received_at)
    clock_skew_seconds: int = Field(default=300, ge=0, le=3600, alias="GRIDWATCH_CLOCK_SKEW")
    text_confidence: float = Field(default=0.6, alias="GRIDWATCH_TEXT_CONFIDENCE")
    # people (README, "Signing in"): the key that signs session cookies (unset: one made once
    # and kept in GRIDWATCH_VAR), how long an idle session lives, and the longest a session lives
    secret_key: str | None = Field(default=None, alias="GRIDWATCH_SECRET_KEY")
    session_idle_minutes: int = Field(default=480, ge=1, alias="GRIDWATCH_SESSION_IDLE_MINUTES")
    session_max_hours: int = Field(default=24, ge=1, alias="GRIDWATCH_SESSION_MAX_HOURS")
    rate_login: str = Field(default="10/60", alias="GRIDWATCH_RATE_LOGIN")
    # the address citizens reach (printed in the QR codes); unset: the address of the request
    public_url: str | None = Field(default=None, alias="GRIDWATCH_PUBLIC_URL")
    # the proxies (nginx: deploy/nginx/gridwatch.conf) whose X-Forwarded-For / -Proto the web
    # process believes: addresses or networks, comma-separated; "*" trusts anyone (never on a
    # port the public can reach). The rate limits count the client address these give.
    trusted_proxies: str = Field(default="127.0.0.1", alias="GRIDWATCH_TRUSTED_PROXIES")
    # the wall's live push (README, "The live wall"): changes are coalesced into one frame every
    # so many milliseconds; and whether websocket frames are compressed (permessage-deflate),
    # which is done once per screen per frame, for screens that are mostly on the LAN
    wall_frame_ms: int = Field(default=60, ge=20, le=2000, alias="GRIDWATCH_WALL_FRAME_MS")
    ws_deflate: bool = Field(default=False, alias="GRIDWATCH_WS_DEFLATE")

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.var_dir / 'gridwatch.db').resolve()}"

    @property
    def effective_redis_wait_replicas(self) -> int:
        """Replicas that must have a write before it is acknowledged (see above)."""
        if self.redis_wait_replicas is not None:
            return self.redis_wait_replicas
        return 1 if (self.redis_url or "").startswith("redis+sentinel://") else 0

    @cached_property
    def effective_secret_key(self) -> str:
        """The cookie-signing key: set, or made once and kept (mode 600) beside the database."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def load_settings() -> Settings:
    return Settings()
