"""Grading photos from the tablet camera: checked to be real images by decoding them (never by
the content type or file name), size-limited, re-encoded as JPEG without metadata (no GPS from
the tablet), stored under the instance folder with a thumbnail.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from warehouse import events, i18n
from warehouse.errors import InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.models import Listing, Unit, UnitPhoto

ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "MPO": "JPEG"}
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 50_000_000  # ~ a 50 MP camera; larger is refused before decoding
STORED_EDGE = 2000
THUMB_EDGE = 320
MAX_PHOTOS_PER_UNIT = 12


def photo_path(directory: Path, photo: UnitPhoto, *, thumb: bool = False) -> Path:
    """Where a photo (or its thumbnail) lives on disk."""
    return Path(directory) / f"{photo.stored_name}{'.thumb' if thumb else ''}.jpg"


def _decode(data: bytes, max_bytes: int) -> Image.Image:
    if not data:
        raise InvalidInput(_("the photo is empty"), field="photo")
    if len(data) > max_bytes:
        raise InvalidInput(
            _(
                "the photo is too large (%(size)s MB; the limit is %(limit)s MB)",
                size=i18n.number(len(data) / 1_048_576, 1),
                limit=i18n.number(max_bytes / 1_048_576),
            ),
            field="photo",
        )
    not_an_image = InvalidInput(
        _("that file is not a photo (JPEG, PNG or WebP), whatever its name or type says"),
        field="photo",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED_FORMATS:
                raise not_an_image
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidInput(_("the photo has too many pixels"), field="photo")
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise not_an_image from None
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput(
            _("the photo is damaged or cut off; take it again"), field="photo"
        ) from None
    return image


def store_photo(
    session: Session,
    actor: events.Actor,
    unit: Unit,
    data: bytes,
    *,
    directory: Path,
    max_bytes: int = MAX_BYTES,
) -> UnitPhoto:
    """Check, re-encode and store a photo of `unit`, with its thumbnail."""
    from warehouse.grading import check_gradable

    check_gradable(unit)
    count = session.query(UnitPhoto).filter_by(unit_id=unit.id).count()
    if count >= MAX_PHOTOS_PER_UNIT:
        raise InvalidInput(
            _(
                "a unit has at most %(MAX_PHOTOS_PER_UNIT)s photos",
                MAX_PHOTOS_PER_UNIT=MAX_PHOTOS_PER_UNIT,
            ),
            field="photo",
        )
    image = ImageOps.exif_transpose(_decode(data, max_bytes)).convert("RGB")
    image.thumbnail((STORED_EDGE, STORED_EDGE))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    photo = UnitPhoto(
        unit_id=unit.id,
        partner_id=unit.partner_id,
        stored_name=secrets.token_hex(16),
        width=image.width,
        height=image.height,
        size_bytes=0,
        uploaded_by_id=actor.user_id,
    )
    main = io.BytesIO()
    image.save(main, "JPEG", quality=85, optimize=True)
    photo.size_bytes = main.tell()
    thumb = image.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE))
    thumb_bytes = io.BytesIO()
    thumb.save(thumb_bytes, "JPEG", quality=80)
    photo_path(directory, photo).write_bytes(main.getvalue())
    photo_path(directory, photo, thumb=True).write_bytes(thumb_bytes.getvalue())
    session.add(photo)
    session.flush()
    events.record(session, actor, "unit.photo_added", unit, photo_id=photo.id)
    return photo


def get_photo(session: Session, photo_id: int, *, partner_id: int | None = None) -> UnitPhoto:
    """A photo by id; another partner's photo is not found."""
    photo = session.get(UnitPhoto, photo_id)
    if photo is None or (partner_id is not None and photo.partner_id != partner_id):
        raise NotFound(_("no such photo"), field="photo")
    return photo


def is_listed(session: Session, unit_id: int) -> bool:
    """Whether the unit is (or was) listed for resale: only such photos have public links."""
    return session.scalar(sa.select(Listing.id).where(Listing.unit_id == unit_id)) is not None


def photos_of(session: Session, unit_id: int) -> list[UnitPhoto]:
    """A unit's photos, oldest first."""
    return list(session.query(UnitPhoto).filter_by(unit_id=unit_id).order_by(UnitPhoto.id))


@dataclass(frozen=True)
class PictureLinks:
    """Public links to the photos of listed units, for resale channels to fetch without a login:
    the photo id signed with the app's secret (a guessed or altered link names nothing)."""

    secret: str

    @classmethod
    def from_settings(cls, settings) -> PictureLinks:
        """The links signed with SECRET_KEY."""
        return cls(settings["SECRET_KEY"])

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt="listing-picture")

    def path(self, photo_id: int) -> str:
        """The public path of a photo."""
        return f"/photos/public/{self._serializer().dumps(photo_id)}.jpg"

    def read(self, token: str) -> int:
        """The photo id a link was signed for."""
        try:
            photo_id = self._serializer().loads(token)
        except BadSignature:
            raise NotFound(_("no such picture"), field="picture") from None
        if not isinstance(photo_id, int):
            raise NotFound(_("no such picture"), field="picture")
        return photo_id
