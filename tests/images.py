"""Small real images (4x3 pixels, made by chromium's canvas) and the metadata a phone
writes, put into them by hand: EXIF with a GPS position and the camera owner's name, IPTC,
PNG text chunks, WebP EXIF and XMP chunks. For the attachment tests."""
from __future__ import annotations

import struct
import zlib

JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffe201d84943435f50524f46494c45000101000001c8000000000430"
    "00006d6e74725247422058595a2007e00001000100000000000061637370000000000000000000000000000000000000"
    "000000000000000000010000f6d6000100000000d32d0000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000964657363000000f0000000247258595a000001140000"
    "00146758595a00000128000000146258595a0000013c0000001477747074000001500000001472545243000001640000"
    "0028675452430000016400000028625452430000016400000028637072740000018c0000003c6d6c7563000000000000"
    "00010000000c656e5553000000080000001c007300520047004258595a200000000000006fa2000038f5000003905859"
    "5a2000000000000062990000b785000018da58595a2000000000000024a000000f840000b6cf58595a20000000000000"
    "f6d6000100000000d32d706172610000000000040000000266660000f2a700000d59000013d000000a5b000000000000"
    "00006d6c756300000000000000010000000c656e5553000000200000001c0047006f006f0067006c006500200049006e"
    "0063002e00200032003000310036ffdb004300100b0c0e0c0a100e0d0e1211101318281a181616183123251d283a333d"
    "3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c656763ffdb0043011112121815182f1a"
    "1a2f63423842636363636363636363636363636363636363636363636363636363636363636363636363636363636363"
    "6363636363636363ffc00011080003000403012200021101031101ffc400150001010000000000000000000000000000"
    "0006ffc40017100101010100000000000000000000000002010011ffc400150101010000000000000000000000000000"
    "0406ffc4001811010003010000000000000000000000000100021131ffda000c03010002110311003f009c2603099c93"
    "333015b3af65780184ffd9")

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000004000000030806000000b4f4aec60000002649444154780154c8b10d00"
    "0008c3b0889bf8ff82fe54e8c040242f299043e0d8c1ab441377070000ffff997e95990000000649444154030048aa09"
    "33523f19550000000049454e44ae426082")

WEBP = bytes.fromhex(
    "524946463002000057454250565038580a0000002000000003000002000049434350c8010000000001c8000000000430"
    "00006d6e74725247422058595a2007e00001000100000000000061637370000000000000000000000000000000000000"
    "000000000000000000010000f6d6000100000000d32d0000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000964657363000000f0000000247258595a000001140000"
    "00146758595a00000128000000146258595a0000013c0000001477747074000001500000001472545243000001640000"
    "0028675452430000016400000028625452430000016400000028637072740000018c0000003c6d6c7563000000000000"
    "00010000000c656e5553000000080000001c007300520047004258595a200000000000006fa2000038f5000003905859"
    "5a2000000000000062990000b785000018da58595a2000000000000024a000000f840000b6cf58595a20000000000000"
    "f6d6000100000000d32d706172610000000000040000000266660000f2a700000d59000013d000000a5b000000000000"
    "00006d6c756300000000000000010000000c656e5553000000200000001c0047006f006f0067006c006500200049006e"
    "0063002e0020003200300031003656503820420000003002009d012a0400030002c04c25b00274ba007e0003212a2128"
    "00fef3353b26f2a84f2e006645f6ec4cf1cd944c53ffe95a73afb7dfbbbfe5a1ffab43f6ec000000")

OWNER = b"Zhang Wei"
GPS_LATITUDE = b"GPS:34.0868N"   # an ASCII stand-in a reader would find in the bytes


def exif_tiff(*, orientation: int | None = 6) -> bytes:
    """A little-endian TIFF block: IFD0 with Artist (the owner's name), Orientation and a
    pointer to a GPS IFD holding the latitude reference and a made-up position text."""
    entries = []
    artist_at = 8 + 2 + 12 * 3 + 4
    gps_at = artist_at + len(OWNER) + 1
    entries.append(struct.pack("<HHII", 0x013B, 2, len(OWNER) + 1, artist_at))        # Artist
    entries.append(struct.pack("<HHIHH", 0x0112, 3, 1, orientation or 1, 0))           # Orientation
    entries.append(struct.pack("<HHII", 0x8825, 4, 1, gps_at))                         # GPS IFD
    ifd0 = struct.pack("<H", 3) + b"".join(entries) + struct.pack("<I", 0)
    text_at = gps_at + 2 + 12 * 2 + 4
    gps = struct.pack("<H", 2) + struct.pack("<HHI2sH", 0x0001, 2, 2, b"N\x00", 0) \
        + struct.pack("<HHII", 0x001B, 7, len(GPS_LATITUDE), text_at) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd0 + OWNER + b"\x00" + gps + GPS_LATITUDE


def jpeg_segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def jpeg_with_metadata(jpeg: bytes = JPEG, *, orientation: int | None = 6) -> bytes:
    """APP1 EXIF (GPS, owner), APP1 XMP, APP13 IPTC and a comment, after the JFIF segment."""
    app0_end = 2 + 2 + struct.unpack(">H", jpeg[4:6])[0]
    extra = jpeg_segment(0xE1, b"Exif\x00\x00" + exif_tiff(orientation=orientation)) \
        + jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + OWNER + b"</x:xmpmeta>") \
        + jpeg_segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0b\x1c\x02\x50\x00\x09" + OWNER) \
        + jpeg_segment(0xFE, b"taken by " + OWNER)
    return jpeg[:app0_end] + extra + jpeg[app0_end:]


def jpeg_segments(jpeg: bytes) -> list[int]:
    """The markers before the first scan."""
    markers, at = [], 2
    while True:
        marker = jpeg[at + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        at += 2 + struct.unpack(">H", jpeg[at + 2:at + 4])[0]


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_metadata(png: bytes = PNG) -> bytes:
    """eXIf, tEXt (Author), zTXt and iTXt chunks after IHDR."""
    ihdr_end = 8 + 12 + 13
    extra = png_chunk(b"eXIf", exif_tiff()) + png_chunk(b"tEXt", b"Author\x00" + OWNER) \
        + png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(OWNER)) \
        + png_chunk(b"iTXt", b"Description\x00\x00\x00\x00\x00" + GPS_LATITUDE)
    return png[:ihdr_end] + extra + png[ihdr_end:]


def png_chunks(png: bytes) -> list[bytes]:
    kinds, at = [], 8
    while at < len(png):
        length = struct.unpack(">I", png[at:at + 4])[0]
        kind, body = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        assert struct.unpack(">I", png[at + 8 + length:at + 12 + length])[0] == zlib.crc32(kind + body)
        kinds.append(kind)
        at += 12 + length
    return kinds


def webp_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def webp_with_metadata(webp: bytes = WEBP) -> bytes:
    """EXIF and XMP chunks at the end, announced in the VP8X header's flags."""
    body = bytearray(webp[12:])
    assert body[:4] == b"VP8X"
    body[8] |= 0x08 | 0x04
    body += webp_chunk(b"EXIF", exif_tiff()) + webp_chunk(b"XMP ", b"<x:xmpmeta>" + OWNER + b"</x:xmpmeta>")
    whole = b"WEBP" + bytes(body)
    return b"RIFF" + struct.pack("<I", len(whole)) + whole


def webp_chunks(webp: bytes) -> list[bytes]:
    assert struct.unpack("<I", webp[4:8])[0] == len(webp) - 8
    kinds, at = [], 12
    while at < len(webp):
        length = struct.unpack("<I", webp[at + 4:at + 8])[0]
        kinds.append(webp[at:at + 4])
        at += 8 + length + (length & 1)
    assert at == len(webp)
    return kinds
