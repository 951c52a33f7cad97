"""Who may use Returnyard: users who log in and API tokens, and the partner each is bound to.

A partner user or a partner token always belongs to one partner (a database constraint says so
too); staff users and marketplace tokens belong to none.
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from warehouse.db import utcnow
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.models import ApiToken, Partner, Role, Site, User

TOKEN_PREFIX = "ry_"  # noqa: S105 - the visible start of every token, not a secret


MIN_PASSWORD_LENGTH = 10

# Checked when no account has the email given, so a wrong email takes as long to refuse as a
# wrong password (the time must not tell which accounts exist).
_NOBODY_HASH = generate_password_hash(secrets.token_hex(16))


def check_password_strength(password: str) -> None:
    """Refuse a password too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


def hash_password(password: str) -> str:
    """A salted hash for storing a password."""
    return generate_password_hash(password)


def password_matches(user: User, password: str) -> bool:
    """Whether `password` is the user's password."""
    return check_password_hash(user.password_hash, password)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, else None, in the same time either way."""
    user = session.query(User).filter_by(email=email.strip().lower()).one_or_none()
    if user is None:
        check_password_hash(_NOBODY_HASH, password)
        return None
    if not password_matches(user, password) or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """End every session of `user` (each cookie carries the version it was issued under)."""
    user.session_version = (user.session_version or 1) + 1


def set_password(user: User, password: str) -> None:
    """Give `user` a new password; every session opened with the old one ends."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    end_sessions(user)


def set_active(user: User, active: bool) -> None:
    """Let `user` log in again, or stop them: deactivating ends their sessions at once."""
    user.active = active
    if not active:
        end_sessions(user)


def check_partner_binding(role: Role, partner: Partner | None, *, field: str = "partner") -> None:
    """A partner role needs its partner; every other role has none."""
    if role == Role.PARTNER and partner is None:
        raise InvalidInput("a partner user or token needs its partner", field=field)
    if role != Role.PARTNER and partner is not None:
        raise InvalidInput(
            f"only partner users and tokens belong to a partner, not a {role.value}", field=field
        )


def check_email_free(session: Session, email: str) -> str:
    """The email as stored (trimmed, lower case), refused when malformed or taken."""
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    if session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user {email!r} exists already", field="email")
    return email


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    partner: Partner | None = None,
    site: Site | None = None,
) -> User:
    """Add a login to the session after checking the email is free and the partner binding."""
    email = check_email_free(session, email)
    check_partner_binding(role, partner)
    check_password_strength(password)
    user = User(
        email=email,
        name=name or email,
        password_hash=hash_password(password),
        role=role,
        partner=partner,
        site=site,
    )
    session.add(user)
    return user


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 (tokens are long random strings, no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, role: Role, partner_id: int | None = None, label: str = ""
) -> str:
    """Create a token row and return the plain token, which is shown once and never stored."""
    if (role == Role.PARTNER) != (partner_id is not None):
        raise InvalidInput(
            "only a partner token is bound to a partner, and it must be", field="partner"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_hash=hash_token(token),
            prefix=token[:10],
            role=role,
            partner_id=partner_id,
            label=label,
        )
    )
    return token


def token_by_secret(session: Session, token: str) -> ApiToken | None:
    """The live (not revoked) token row of a plain token, by its hash (an indexed look-up)."""
    return session.scalars(
        sa.select(ApiToken).where(
            ApiToken.token_hash == hash_token(token.strip()), ApiToken.revoked_at.is_(None)
        )
    ).one_or_none()


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke an API token: it stops working at once. Revoking it twice is refused."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token #{token_id}", field="token")
    if row.revoked_at is not None:
        raise Conflict(
            f"API token #{token_id} was revoked already, on {row.revoked_at:%Y-%m-%d %H:%M} UTC",
            field="token",
        )
    row.revoked_at = utcnow()
    return row
