"""Image files as a ticket's attachments take them: the kind told by the first bytes (never
by the file's name or the type its sender declared), and the metadata a phone writes into a
photo (EXIF with the GPS position and the camera owner's name, XMP, IPTC, text chunks) cut
out by walking the container, in plain Python: JPEG segments, PNG chunks, WebP chunks.
The picture's own data is copied as it came, so the image is the same image.

A JPEG's orientation lives in its EXIF: it is kept, alone, in a new minimal EXIF segment,
so a phone photo taken upright is not shown on its side once the rest is gone."""
from __future__ import annotations

import struct

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", WEBP: ".webp"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG markers cut out: APP1 (EXIF, XMP), APP13 (Photoshop IPTC: names, captions), COM (comments).
JPEG_DROPPED = frozenset({0xE1, 0xED, 0xFE})
# Markers that stand alone, without a length: TEM and the restart markers.
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
# PNG chunks cut out: EXIF, and the text chunks (author, comment, anything a program wrote).
PNG_DROPPED = frozenset({b"eXIf", b"tEXt", b"iTXt", b"zTXt"})
# WebP chunks cut out, and the VP8X header's flags that announce them.
WEBP_DROPPED = frozenset({b"EXIF", b"XMP "})
VP8X_EXIF_FLAG, VP8X_XMP_FLAG = 0x08, 0x04
ORIENTATION_TAG = 0x0112


class NotAnImage(ValueError):
    """Not one of the image kinds taken, or cut short / malformed inside."""


def image_type(data: bytes) -> str | None:
    """JPEG, PNG or WebP by the magic bytes at the start; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(PNG_SIGNATURE):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def strip_metadata(data: bytes) -> tuple[str, bytes]:
    """(media type, the image without its metadata); NotAnImage when it is none of the kinds
    taken or its structure does not hold together."""
    kind = image_type(data)
    if kind == JPEG:
        return kind, _strip_jpeg(data)
    if kind == PNG:
        return kind, _strip_png(data)
    if kind == WEBP:
        return kind, _strip_webp(data)
    raise NotAnImage("unknown kind")


# ---- JPEG -------------------------------------------------------------------------------------

def _strip_jpeg(data: bytes) -> bytes:
    out = [data[:2]]
    orientation: int | None = None
    at = 2
    while True:
        # Markers may be padded with any number of 0xFF bytes.
        if at >= len(data) or data[at] != 0xFF:
            raise NotAnImage("jpeg: marker expected")
        while at < len(data) and data[at] == 0xFF:
            at += 1
        if at >= len(data):
            raise NotAnImage("jpeg: cut short")
        marker = data[at]
        at += 1
        if marker in JPEG_STANDALONE:
            out.append(bytes((0xFF, marker)))
            continue
        if marker in (SOI, EOI, 0x00):
            raise NotAnImage("jpeg: no image data")
        if at + 2 > len(data):
            raise NotAnImage("jpeg: cut short")
        length = struct.unpack(">H", data[at:at + 2])[0]
        end = at + length
        if length < 2 or end > len(data):
            raise NotAnImage("jpeg: bad segment length")
        if marker == SOS:
            if orientation is not None:
                # After JFIF's APP0, which must come first when there is one.
                out.insert(2 if out[1][:2] == b"\xff\xe0" else 1, _exif_orientation(orientation))
            # The scans and whatever follows them are the picture: copied as they are.
            out.append(data[at - 2:])
            return b"".join(out)
        if marker in JPEG_DROPPED:
            if marker == 0xE1 and orientation is None:
                orientation = _orientation_of(data[at + 2:end])
        else:
            out.append(data[at - 2:end])
        at = end


def _orientation_of(segment: bytes) -> int | None:
    """The EXIF Orientation (2..8) from IFD0 of an APP1 segment, None if absent, 1 or unreadable."""
    if not segment.startswith(b"Exif\x00\x00"):
        return None
    tiff = segment[6:]
    try:
        order = {b"II": "<", b"MM": ">"}[tiff[:2]]
        ifd = struct.unpack(order + "I", tiff[4:8])[0]
        (count,) = struct.unpack(order + "H", tiff[ifd:ifd + 2])
        for i in range(count):
            entry = tiff[ifd + 2 + 12 * i: ifd + 14 + 12 * i]
            tag, kind = struct.unpack(order + "HH", entry[:4])
            if tag == ORIENTATION_TAG and kind == 3:
                value = struct.unpack(order + "H", entry[8:10])[0]
                return value if 2 <= value <= 8 else None
    except (KeyError, struct.error):
        return None
    return None


def _exif_orientation(value: int) -> bytes:
    """An APP1 segment holding only the Orientation tag (big-endian TIFF, one IFD entry)."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) \
        + struct.pack(">HHIHH", ORIENTATION_TAG, 3, 1, value, 0) + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


# ---- PNG --------------------------------------------------------------------------------------

def _strip_png(data: bytes) -> bytes:
    out = [PNG_SIGNATURE]
    at = len(PNG_SIGNATURE)
    while True:
        if at + 8 > len(data):
            raise NotAnImage("png: cut short")
        length = struct.unpack(">I", data[at:at + 4])[0]
        kind = data[at + 4:at + 8]
        end = at + 12 + length
        if end > len(data):
            raise NotAnImage("png: bad chunk length")
        if kind not in PNG_DROPPED:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            return b"".join(out)


# ---- WebP -------------------------------------------------------------------------------------

def _strip_webp(data: bytes) -> bytes:
    size = struct.unpack("<I", data[4:8])[0]
    if size + 8 > len(data) or size < 4:
        raise NotAnImage("webp: bad size")
    chunks: list[bytes] = []
    at, end = 12, 8 + size
    if at >= end:
        raise NotAnImage("webp: empty")
    while at < end:
        if at + 8 > end:
            raise NotAnImage("webp: cut short")
        kind = data[at:at + 4]
        length = struct.unpack("<I", data[at + 4:at + 8])[0]
        stop = at + 8 + length + (length & 1)   # chunks are padded to an even length
        if at + 8 + length > end:
            raise NotAnImage("webp: bad chunk length")
        chunk = data[at:min(stop, end)]
        if kind == b"VP8X" and length >= 1:
            flags = chunk[8] & ~(VP8X_EXIF_FLAG | VP8X_XMP_FLAG)
            chunk = chunk[:8] + bytes((flags,)) + chunk[9:]
        if kind not in WEBP_DROPPED:
            chunks.append(chunk)
        at = stop
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
