"""Uploaded images, cleaned before anything keeps them.

``clean_image`` accepts JPEG, PNG and WebP only, recognised by their content (never by the client's
content type or file name), and returns a freshly encoded image in the same format:

* **Bombs and broken files are refused.** The pixel count is checked from the header before any
  pixel is decoded (``max_pixels``); a truncated or corrupt file fails to decode and is refused.
* **Orientation is applied, then every piece of metadata is dropped.** The EXIF orientation is
  turned into real pixels, and the output is encoded from a new image that holds nothing but
  pixels: no EXIF (GPS position, camera, time), no XMP, no comments or text chunks, no ICC profile.
  Children appear in these pictures; where they were taken must not travel with them. An embedded
  colour profile is converted to sRGB first, so colours survive without the profile.
* **Animated images are refused** (animated PNG and WebP): keeping only the first frame would
  publish something the uploader did not choose. A JPEG that carries several pictures (MPO, as many
  phone cameras write) is a still photo: its primary picture is kept.
* ``max_side`` optionally shrinks the image to fit a square of that size (JPEGs are then decoded at a
  reduced scale already, which keeps memory low for large photos).

The work is CPU-bound and synchronous: call it in a worker thread. Every refusal is a 422
``RuleViolation`` with a stable code (``image_unsupported``, ``image_corrupt``,
``image_too_many_pixels``, ``image_animated``); no input raises anything else.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from backend.core.errors import AppError, RuleViolation

log = logging.getLogger("backend.images")

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP")  # Pillow's JPEG plugin also opens MPO (multi-picture JPEG)
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 85, "optimize": True},
    "PNG": {"compress_level": 6},
    "WEBP": {"quality": 85, "method": 4},
}


@dataclass(frozen=True, slots=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int


def unsupported() -> RuleViolation:
    return RuleViolation(
        "Only JPEG, PNG and WebP images are accepted",
        detail_zh="仅支持 JPEG、PNG 或 WebP 格式的图片",
        code="image_unsupported",
    )


def _corrupt() -> RuleViolation:
    return RuleViolation("The image is damaged or incomplete", detail_zh="图片已损坏或不完整", code="image_corrupt")


def _too_many_pixels(max_pixels: int) -> RuleViolation:
    return RuleViolation(
        f"The image has too many pixels (at most {max_pixels:,})",
        detail_zh=f"图片像素过多（最多 {max_pixels:,} 像素），请缩小后再上传",
        code="image_too_many_pixels",
        extra={"max_pixels": max_pixels},
    )


def _animated() -> RuleViolation:
    return RuleViolation(
        "Animated images are not accepted; upload a still image",
        detail_zh="不支持动图，请上传静态图片",
        code="image_animated",
    )


def clean_image(data: bytes, *, max_pixels: int, max_side: int | None = None) -> CleanImage:
    """Check and re-encode an uploaded image (see the module's description)."""
    try:
        image = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except Image.DecompressionBombError:
        raise _too_many_pixels(max_pixels) from None
    except UnidentifiedImageError:
        raise unsupported() from None
    except Exception:  # a plugin recognised the file but choked on its header
        raise _corrupt() from None
    with image:
        fmt = "JPEG" if image.format == "MPO" else str(image.format)
        if fmt not in CONTENT_TYPES:
            raise unsupported()
        width, height = image.size
        if width < 1 or height < 1:
            raise _corrupt()
        if width * height > max_pixels:
            raise _too_many_pixels(max_pixels)
        if fmt != "JPEG" and getattr(image, "is_animated", False):
            raise _animated()
        try:
            pixels = _decode(image, fmt, max_side)
            out = io.BytesIO()
            pixels.save(out, fmt, **_SAVE_OPTIONS[fmt])
        except AppError:
            raise
        except Image.DecompressionBombError:
            raise _too_many_pixels(max_pixels) from None
        except Exception as exc:  # truncated data, bad chunks, decoder errors, exhausted memory …
            log.info("image refused as corrupt: %s: %s", type(exc).__name__, exc)
            raise _corrupt() from None
    return CleanImage(out.getvalue(), CONTENT_TYPES[fmt], pixels.width, pixels.height)


def _decode(image: Image.Image, fmt: str, max_side: int | None) -> Image.Image:
    """The upright pixels as a new image in L, LA, RGB or RGBA, carrying no metadata at all."""
    if fmt == "JPEG" and max_side:
        image.draft(None, (max_side, max_side))  # DCT scaling: decode at the smallest scale ≥ max_side
    image.load()  # raises on truncated or corrupt data
    icc = image.info.get("icc_profile")
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # unreadable EXIF: the pixels as stored (the EXIF is dropped anyway)
        upright = image.copy()
    pixels = _standard_mode(upright, fmt, icc if isinstance(icc, bytes) else None)
    if max_side and max(pixels.size) > max_side:
        pixels.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A new image from the raw pixels: no EXIF, XMP, ICC, comments, text chunks or other info.
    return Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())


def _standard_mode(image: Image.Image, fmt: str, icc: bytes | None) -> Image.Image:
    """L or RGB (LA or RGBA where the format keeps transparency), colours converted to sRGB."""
    mode, alpha_ok = image.mode, fmt != "JPEG"
    if mode.startswith("I;16") or mode in ("I", "F"):  # 16-bit grey: scale down to 8 bits
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        has_alpha = alpha_ok and (mode == "PA" or "transparency" in image.info)
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode in ("L", "LA"):
        return image if mode == "L" or alpha_ok else image.convert("L")
    has_alpha = alpha_ok and "A" in image.getbands()
    if icc and mode in ("RGB", "RGBA", "CMYK"):
        converted = _to_srgb(image, icc, has_alpha)
        if converted is not None:
            return converted
    target = "RGBA" if has_alpha else "RGB"
    return image if mode == target else image.convert(target)


def _to_srgb(image: Image.Image, icc: bytes, keep_alpha: bool) -> Image.Image | None:
    """Convert from the embedded colour profile to sRGB; None if the profile is unusable."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        alpha = image.getchannel("A") if keep_alpha and image.mode == "RGBA" else None
        base = image.convert("RGB") if image.mode == "RGBA" else image
        converted = ImageCms.profileToProfile(base, source, srgb, outputMode="RGB")
    except Exception:  # a broken or unsupported profile: keep the pixels as they are
        return None
    if converted is None:
        return None
    if alpha is not None:
        converted.putalpha(alpha)
    return converted
