"""A photo's thumbnail (缩略图): a small JPEG of it, its longest side THUMB_SIDE pixels, for the
ticket page's list of photos, so a page of nine photos costs a few hundred kB and not up to
nine full photos. Made with Pillow when the photo is stored (dispatch/attachments.py), from
the bytes as stored: their metadata is already cut out, all but the EXIF orientation, which
is applied here, so a photo taken upright is drawn upright in its thumbnail too (the JPEG
written carries no EXIF at all)."""
from __future__ import annotations

import io

from PIL import Image, ImageOps

THUMB_SIDE = 320
# Named in the thumbnail's ETag: raised when the way thumbnails are drawn changes.
VERSION = 1
MEDIA_TYPE = "image/jpeg"
QUALITY = 80
# Decoded whole, a picture of this many pixels takes about 160 MB (RGBA): a PNG or WebP past it
# is not drawn. A JPEG is decoded at 1/2 to 1/8 of its size (draft), so its limit is far higher.
MAX_PIXELS = 40_000_000
MAX_JPEG_PIXELS = 16 * MAX_PIXELS
# Pillow's own guard (a warning past it, an error past twice it) left to the limits above.
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS


class NoThumbnail(ValueError):
    """The bytes passed the structure check but cannot be drawn (damaged data, or a picture
    of more pixels than MAX_PIXELS)."""


def make(data: bytes) -> bytes:
    """The thumbnail of a stored photo (JPEG, PNG or WebP), upright, at most THUMB_SIDE pixels
    on its longest side (a smaller photo keeps its size); transparency is laid on white."""
    try:
        picture = ImageOps.exif_transpose(_open(data))
        picture.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
            rgba = picture.convert("RGBA")
            picture = Image.new("RGB", rgba.size, "white")
            picture.paste(rgba, mask=rgba.getchannel("A"))
        elif picture.mode != "RGB":
            picture = picture.convert("RGB")
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=QUALITY, optimize=True)
    except NoThumbnail:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise NoThumbnail(str(exc)) from None
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data), formats=("JPEG", "PNG", "WEBP"))
    width, height = picture.size
    limit = MAX_JPEG_PIXELS if picture.format == "JPEG" else MAX_PIXELS
    if width * height > limit:
        raise NoThumbnail(f"{width}x{height} pixels")
    if picture.format == "JPEG":
        # Decoded straight at the smallest scale that still covers the thumbnail: fast, and
        # little memory even for a 50-megapixel photo.
        picture.draft("RGB", (THUMB_SIDE * 2, THUMB_SIDE * 2))
    picture.load()
    return picture
