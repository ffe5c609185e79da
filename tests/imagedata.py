"""Test images made with Pillow: photos carrying GPS EXIF, decompression bombs."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import ExifTags, Image, ImageCms


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.DateTime] = "2026:05:01 09:30:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (46.0, 35.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (125.0, 6.0, 1.0)
    return exif


def photo_with_gps(orientation: int = 6) -> bytes:
    """A 40×20 JPEG, left half red, with GPS EXIF, orientation, XMP, a comment and an ICC profile."""
    image = Image.new("RGB", (40, 20), "blue")
    image.paste("red", (0, 0, 20, 20))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        image,
        "JPEG",
        exif=gps_exif(orientation),
        icc_profile=icc,
        comment=b"taken at home",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>46,35N</exif:GPSLatitude></x:xmpmeta>',
    )


def assert_no_metadata(data: bytes, *, markers: bool = True) -> None:
    image = Image.open(io.BytesIO(data))
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(image.info)
    if markers:  # the raw bytes too (for images whose pixel data cannot spell these by chance)
        for marker in (b"Exif", b"GPS", b"xmpmeta", b"ICC_PROFILE", b"taken at home", b"PhoneMaker", b"2026:05:01"):
            assert marker not in data


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming ``width``×``height`` pixels, with a few bytes of image data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


PNG = encode(Image.new("RGB", (12, 8), "teal"), "PNG")
