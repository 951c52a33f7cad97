"""Configuration from environment variables, with defaults that work on a single machine.

Every setting the app, the worker and the relay read is read here, once, and documented in the
README's configuration table (a test keeps the two equal). Code elsewhere reads
`app.config["NAME"]` (or a job's `settings["NAME"]`) and never carries a default of its own.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _flag(name: str, default: str = "") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def _seconds_list(name: str, default: str) -> list[int]:
    return [int(part) for part in os.environ.get(name, default).split(",") if part.strip()]


def from_environment() -> dict:
    """The settings table documented in the README, read from os.environ."""
    instance = Path(os.environ.get("RETURNYARD_INSTANCE", DEFAULT_INSTANCE))
    port = int(os.environ.get("PORT", "8000"))
    return {
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance / 'returnyard.sqlite3'}"
        ),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RQ_QUEUE_PREFIX": os.environ.get("RQ_QUEUE_PREFIX", ""),
        "SMTP_HOST": os.environ.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "8025")),
        "SMTP_TIMEOUT": float(os.environ.get("SMTP_TIMEOUT", "30")),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS"),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        # Background jobs (README "Background jobs"): worker class, retry backoff in seconds,
        # how often the relay looks at the outbox, how often rq recovers abandoned jobs, and
        # how long rq keeps results and failures.
        "RQ_WORKER_CLASS": os.environ.get("RQ_WORKER_CLASS", "fork"),
        "JOB_RETRY_INTERVALS": _seconds_list("JOB_RETRY_INTERVALS", "10,60,300,1800,7200"),
        "RELAY_INTERVAL": float(os.environ.get("RELAY_INTERVAL", "1")),
        # A row dispatched and not done after this is offered to RQ again (its job may have been
        # lost with Redis's data); a job still alive in Redis just renews it.
        "OUTBOX_LEASE_SECONDS": int(os.environ.get("OUTBOX_LEASE_SECONDS", "60")),
        "RQ_MAINTENANCE_INTERVAL": int(os.environ.get("RQ_MAINTENANCE_INTERVAL", "60")),
        "JOB_RESULT_TTL": int(os.environ.get("JOB_RESULT_TTL", str(7 * 24 * 3600))),
        "JOB_FAILURE_TTL": int(os.environ.get("JOB_FAILURE_TTL", str(30 * 24 * 3600))),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Returnyard <returns@returnyard.example>"),
        # Links in mails and labels must reach the app as it is served: with no PUBLIC_URL,
        # the port `make run` serves on.
        "PORT": port,
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or f"http://127.0.0.1:{port}",
        "SECRET_KEY": _secret_key(instance),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", str(8 * 1024 * 1024))),
        "PHOTO_MAX_BYTES": int(os.environ.get("PHOTO_MAX_BYTES", str(8 * 1024 * 1024))),
        "CASE_LINK_MAX_AGE": int(os.environ.get("CASE_LINK_MAX_AGE", str(14 * 24 * 3600))),
        # A grade that opens a partner case can be taken back at the station this long; the
        # partner's mail waits in the outbox until then.
        "GRADE_UNDO_SECONDS": int(os.environ.get("GRADE_UNDO_SECONDS", "120")),
        "RETURN_LOOKUPS_PER_IP": int(os.environ.get("RETURN_LOOKUPS_PER_IP", "20")),
        # Wrong logins allowed in 15 minutes per account and per client address (then 429).
        "LOGIN_FAILURES_PER_ACCOUNT": int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "10")),
        "LOGIN_FAILURES_PER_ADDRESS": int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "50")),
        # How many proxies in front set X-Forwarded-For/-Proto/-Host that the app may believe.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # Behind HTTPS: Secure cookies and HSTS.
        "SECURE_COOKIES": _flag("SECURE_COOKIES"),
        "RETURN_LOOKUPS_PER_ORDER": int(os.environ.get("RETURN_LOOKUPS_PER_ORDER", "5")),
        "RESALE_EXPORT_BACKGROUND_ROWS": int(
            os.environ.get("RESALE_EXPORT_BACKGROUND_ROWS", "2000")
        ),
        # The marketplace's enterprise size for the ESPR destruction ban (large, medium, small).
        "ESPR_ENTERPRISE_SIZE": os.environ.get("ESPR_ENTERPRISE_SIZE", "large"),
        # Who issues the commission invoices: the marketplace's name, address and VAT number.
        "MARKETPLACE_NAME": os.environ.get("MARKETPLACE_NAME", "Returnyard Marketplace B.V."),
        "MARKETPLACE_ADDRESS": os.environ.get(
            "MARKETPLACE_ADDRESS", r"Havenweg 1\n5145 NJ Waalwijk\nNetherlands"
        ).replace(r"\n", "\n"),
        "MARKETPLACE_VAT_ID": os.environ.get("MARKETPLACE_VAT_ID", "NL000000000B01"),
        # Webhooks may go to private-network addresses (loopback, 10.x, ...): off, so a webhook
        # never reaches the warehouse's own services; on for tests or an on-premise marketplace.
        "WEBHOOK_ALLOW_PRIVATE": os.environ.get("WEBHOOK_ALLOW_PRIVATE", "") == "1",
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
    }
