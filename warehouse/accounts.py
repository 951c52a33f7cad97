"""Who may use Returnyard: users who log in and API tokens, and the partner each is bound to.

A partner user or a partner token always belongs to one partner (a database constraint says so
too); staff users and marketplace tokens belong to none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from warehouse.db import utcnow
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.mail import queue_mail
from warehouse.models import ApiToken, Partner, Role, Site, User
from warehouse.reference import LANGUAGES

TOKEN_PREFIX = "ry_"  # noqa: S105 - the visible start of every token, not a secret


MIN_PASSWORD_LENGTH = 10

# Checked when no account has the email given, so a wrong email takes as long to refuse as a
# wrong password (the time must not tell which accounts exist).
_NOBODY_HASH = generate_password_hash(secrets.token_hex(16))


def check_password_strength(password: str) -> None:
    """Refuse a password too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _(
                "the password needs at least %(MIN_PASSWORD_LENGTH)s characters",
                MIN_PASSWORD_LENGTH=MIN_PASSWORD_LENGTH,
            ),
            field="password",
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
        raise InvalidInput(_("a partner user or token needs its partner"), field=field)
    if role != Role.PARTNER and partner is not None:
        raise InvalidInput(
            _("only partner users and tokens belong to a partner, not a %(role)s", role=role.value),
            field=field,
        )


def check_email_free(session: Session, email: str) -> str:
    """The email as stored (trimmed, lower case), refused when malformed or taken."""
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(_("%(email)s is not an email address", email=repr(email)), field="email")
    if session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(_("a user %(email)s exists already", email=repr(email)), field="email")
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
            _("only a partner token is bound to a partner, and it must be"), field="partner"
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
        raise NotFound(_("no API token #%(token_id)s", token_id=token_id), field="token")
    if row.revoked_at is not None:
        raise Conflict(
            _(
                "API token #%(token_id)s was revoked already, on %(when)s UTC",
                token_id=token_id,
                when=f"{row.revoked_at:%Y-%m-%d %H:%M}",
            ),
            field="token",
        )
    row.revoked_at = utcnow()
    return row


# --- administration: users and tokens, each change an event ------------------------------------

PASSWORD_LINK_SALT = "set-password"  # noqa: S105 - the signer's salt, not a password
PASSWORD_LINK_DAYS = 3


@dataclass(frozen=True)
class PasswordLinks:
    """Signed, expiring set-password links (an invitation, a reset). A link carries a digest of
    the user's password hash as it was: setting a password changes the hash, so each link
    works once (logging out or a change of role leaves it working)."""

    secret_key: str
    max_age_seconds: int = PASSWORD_LINK_DAYS * 86400

    @classmethod
    def from_settings(cls, settings) -> PasswordLinks:
        """The signer of an app's (or a job's) settings: its SECRET_KEY."""
        return cls(settings["SECRET_KEY"])

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=PASSWORD_LINK_SALT)

    def token(self, user: User) -> str:
        """The token of a link for `user`, valid until they set a password."""
        return self._serializer().dumps({"u": user.id, "p": _hash_digest(user)})

    def user_for(self, session: Session, token: str) -> User:
        """The user a link is for; refused when forged, expired, used or for a stopped user."""
        try:
            claim = self._serializer().loads(token, max_age=self.max_age_seconds)
        except SignatureExpired:
            raise Conflict(_("this link has expired; ask for a new one"), field="token") from None
        except BadSignature:
            raise NotFound(_("this link is not valid"), field="token") from None
        user = session.get(User, claim.get("u")) if isinstance(claim, dict) else None
        if user is None or not user.active:
            raise NotFound(_("this link is not valid"), field="token")
        if claim.get("p") != _hash_digest(user):
            raise Conflict(_("this link was used already; ask for a new one"), field="token")
        return user


def _hash_digest(user: User) -> str:
    """A short digest of the user's password hash (the link must not carry the hash itself)."""
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:16]


def _user_fields(user: User) -> dict:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "partner": user.partner.code if user.partner else None,
        "site": user.site.code if user.site else None,
        "language": user.language,
        "active": user.active,
    }


def check_not_last_admin(session: Session, user: User) -> None:
    """Refuse to take the admin role or access from the only active admin."""
    if user.role != Role.ADMIN or not user.active:
        return
    others = session.scalar(
        sa.select(sa.func.count()).where(
            User.role == Role.ADMIN, User.active.is_(True), User.id != user.id
        )
    )
    if not others:
        raise Conflict(
            _("%(email)s is the last active admin; make another admin first", email=user.email),
            field="user",
        )


def add_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    role: Role,
    partner: Partner | None = None,
    site: Site | None = None,
    language: str = "en",
) -> User:
    """A new user without a password: they set one from the invitation link."""
    email = check_email_free(session, email)
    check_partner_binding(role, partner)
    if language not in LANGUAGES:
        raise InvalidInput(
            _(
                "%(language)s is not one of %(value)s",
                language=repr(language),
                value=", ".join(LANGUAGES),
            ),
            field="language",
        )
    user = User(
        email=email,
        name=(name or "").strip()[:120] or email,
        password_hash="!",  # noqa: S106 - no hash matches: no login until a password is set
        role=role,
        partner=partner,
        site=site,
        language=language,
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.created", user, after=role.value, fields=_user_fields(user))
    return user


def change_user(
    session: Session,
    actor: Actor,
    user: User,
    *,
    name: str | None = None,
    role: Role | None = None,
    partner: Partner | bool | None = False,
    site: Site | bool | None = False,
    language: str | None = None,
    active: bool | None = None,
) -> dict:
    """Change a user's name, role, partner, site, language or access (False: leave as is);
    answers {field: [before, after]}. Deactivating ends their sessions; the last active admin
    keeps their role and access."""
    before = _user_fields(user)
    new_role = role if role is not None else user.role
    new_partner = user.partner if partner is False else partner
    check_partner_binding(new_role, new_partner)
    if (new_role != Role.ADMIN or active is False) and user.role == Role.ADMIN:
        check_not_last_admin(session, user)
    if language is not None and language not in LANGUAGES:
        raise InvalidInput(
            _(
                "%(language)s is not one of %(value)s",
                language=repr(language),
                value=", ".join(LANGUAGES),
            ),
            field="language",
        )
    if name is not None:
        if not name.strip():
            raise InvalidInput(_("the name is empty"), field="name")
        user.name = name.strip()[:120]
    user.role, user.partner = new_role, new_partner
    if site is not False:
        user.site = site
    if language is not None:
        user.language = language
    if active is not None and active != user.active:
        set_active(user, active)
    if before["role"] != user.role.value or before["partner"] != (
        user.partner.code if user.partner else None
    ):
        end_sessions(user)  # what they may see changed: log in again
    after = _user_fields(user)
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changed:
        record(
            session, actor, "user.changed", user, before=", ".join(sorted(changed)), changes=changed
        )
    return changed


def password_mail(
    session: Session, user: User, links: PasswordLinks, *, public_url: str, invite: bool
) -> None:
    """Mail `user` a set-password link: an invitation for a new user, else a reset."""
    token = links.token(user)
    queue_mail(
        session,
        template="user_invite" if invite else "password_reset",
        to=user.email,
        # A partner's people read the partner's language, in the portal and in their mail.
        language=user.partner.language if user.partner else user.language,
        context={
            "name": user.name,
            "email": user.email,
            "partner": user.partner.name if user.partner else "",
            "link": f"{public_url.rstrip('/')}/account/password/{token}",
            "days": links.max_age_seconds // 86400,
        },
        key=f"password:{user.id}:{token[-24:]}",
    )


def invite(session: Session, actor: Actor, settings, **fields) -> User:
    """A new user (`add_user`'s fields), mailed a link to choose their password; `settings`
    sign the link and give the public address it points at."""
    user = add_user(session, actor, **fields)
    password_mail(
        session,
        user,
        PasswordLinks.from_settings(settings),
        public_url=settings["PUBLIC_URL"],
        invite=True,
    )
    return user


def list_tokens(session: Session, *, include_revoked: bool = True) -> list[ApiToken]:
    """Every API token, newest first (their secrets are not stored, only a prefix)."""
    query = sa.select(ApiToken).order_by(ApiToken.id.desc())
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query))


TOKEN_USE_RESOLUTION = dt.timedelta(hours=1)


def token_use_stale(token: ApiToken, now: dt.datetime) -> bool:
    """Whether the token's last use should be written again: it is kept to the hour, so a
    token is written at most once an hour (not on every request)."""
    return token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION
