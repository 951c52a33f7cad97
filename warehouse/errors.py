"""Domain exceptions. Stations turn them into responses; each names the problem for a person."""

from __future__ import annotations


class DomainError(Exception):
    """A request the warehouse refuses. `field` names the input at fault, when there is one."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, **details) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def as_dict(self) -> dict:
        """The refusal as the API's JSON error body."""
        body = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.details)
        return body


class InvalidInput(DomainError):
    """Input that does not fit: a missing field, a wrong type, an out-of-range value."""

    status = 400
    code = "invalid_input"


class NotFound(DomainError):
    """Nothing by that id or code (also what another partner's record looks like)."""

    status = 404
    code = "not_found"


class NotAllowed(DomainError):
    """The caller may see the record but not do this to it (e.g. confirm another's payment)."""

    status = 403
    code = "not_allowed"


class Conflict(DomainError):
    """The request clashes with the current state (duplicate, already done, claimed elsewhere)."""

    status = 409
    code = "conflict"


class UnknownBarcode(NotFound):
    """A scan that matches no RMA, tracking number, order, LPN or bin."""

    code = "unknown_barcode"


class UnitAlreadyClaimed(Conflict):
    """Another station got there first."""

    code = "already_claimed"


class OutsideReturnWindow(DomainError):
    """The return came back after the window and grace days, and policy refuses it."""

    code = "outside_window"
