"""API tokens (admin): list and revoke. A token is created on the command line or the admin
screen, where its secret is shown once."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from warehouse import accounts, events
from warehouse.db import db
from warehouse.models import ApiToken, Role


class TokenOut(BaseModel):
    """A token, without its secret (only the first characters are kept)."""

    id: int
    prefix: str = Field(description="The token's first characters, to recognise it")
    label: str
    role: Role
    partner: str | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None = Field(description="To the hour")
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        """The API's view of a token."""
        return cls(
            id=token.id,
            prefix=token.prefix,
            label=token.label,
            role=token.role,
            partner=token.partner.code if token.partner else None,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class TokenList(BaseModel):
    """Every token, newest first."""

    tokens: list[TokenOut]


@bp.get("/tokens")
@token_required()
@operation(
    "API tokens (admin)",
    operation_id="listTokens",
    answers={200: Answer("The tokens", TokenList)},
    errors=(401, 403),
)
def list_tokens():
    """Every token, revoked ones too."""
    return answer(TokenList(tokens=[TokenOut.of(t) for t in accounts.list_tokens(db.session)]))


@bp.delete("/tokens/<int:token_id>")
@token_required()
@operation(
    "Revoke an API token (admin); it stops working at once",
    operation_id="revokeToken",
    answers={200: Answer("The revoked token", TokenOut)},
    errors=(401, 403, 404, 409),
)
def revoke(token_id: int):
    """Revoke a token; revoking it twice is a 409."""
    token = accounts.revoke_token(db.session, token_id)
    events.record(db.session, api_actor(), "token.revoked", token, after="revoked")
    db.session.commit()
    return answer(TokenOut.of(token))
