"""clean_image: only real JPEG/PNG/WebP stills get through, upright and without any metadata."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from backend.core.errors import RuleViolation
from backend.core.images import clean_image
from tests.imagedata import assert_no_metadata, bomb_png, encode, gps_exif, photo_with_gps

MAX_PIXELS = 50_000_000


def refused(data: bytes, code: str, **kw) -> None:
    with pytest.raises(RuleViolation) as err:
        clean_image(data, max_pixels=kw.pop("max_pixels", MAX_PIXELS), **kw)
    assert err.value.code == code
    assert err.value.status_code == 422
    assert err.value.detail_zh


def test_gps_exif_and_all_other_metadata_are_stripped_and_orientation_applied():
    original = photo_with_gps(orientation=6)  # "rotate 90° clockwise to display"
    assert b"GPS" in original or Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    clean = clean_image(original, max_pixels=MAX_PIXELS)
    assert clean.content_type == "image/jpeg"
    assert (clean.width, clean.height) == (20, 40)  # upright: the rotation is in the pixels now
    assert_no_metadata(clean.data)
    upright = Image.open(io.BytesIO(clean.data)).convert("RGB")
    assert upright.size == (20, 40)
    top, bottom = upright.getpixel((10, 5)), upright.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60  # the red half is on top after turning clockwise
    assert bottom[2] > 200 and bottom[0] < 60


def test_png_is_accepted_and_its_text_and_exif_chunks_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "Daqing, Saertu district")
    info.add_itxt("Comment", "taken at home")
    image = Image.new("RGBA", (30, 10), (10, 200, 30, 128))
    clean = clean_image(encode(image, "PNG", pnginfo=info, exif=gps_exif()), max_pixels=MAX_PIXELS)
    assert (clean.content_type, clean.width, clean.height) == ("image/png", 30, 10)
    assert_no_metadata(clean.data)
    assert b"Daqing" not in clean.data
    out = Image.open(io.BytesIO(clean.data))
    assert out.format == "PNG" and out.mode == "RGBA"
    assert out.getpixel((3, 3)) == (10, 200, 30, 128)  # transparency kept


def test_webp_is_accepted_and_stripped():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(Image.new("RGB", (16, 12), "green"), "WEBP", exif=gps_exif(), icc_profile=icc, xmp=b"<x:xmpmeta/>")
    clean = clean_image(data, max_pixels=MAX_PIXELS)
    assert (clean.content_type, clean.width, clean.height) == ("image/webp", 16, 12)
    assert_no_metadata(clean.data)
    assert not {b"EXIF", b"ICCP", b"XMP "} & {clean.data[i : i + 4] for i in range(len(clean.data) - 3)}


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (9, 7), 120),
        Image.new("1", (9, 7), 1),
        Image.new("CMYK", (9, 7), (0, 255, 255, 0)),
        Image.new("I;16", (9, 7), 40000),
        Image.new("P", (9, 7), 3),
        Image.new("LA", (9, 7), (50, 60)),
    ],
    ids=lambda im: im.mode,
)
def test_every_pixel_mode_comes_out_as_a_standard_one(image):
    fmt = "JPEG" if image.mode in ("L", "CMYK") else "PNG"
    clean = clean_image(encode(image, fmt), max_pixels=MAX_PIXELS)
    out = Image.open(io.BytesIO(clean.data))
    assert out.mode in ("L", "LA", "RGB", "RGBA")
    assert (clean.width, clean.height) == (9, 7)


def test_a_multi_picture_jpeg_is_a_still_photo():
    first, second = Image.new("RGB", (30, 20), "red"), Image.new("RGB", (30, 20), "blue")
    clean = clean_image(encode(first, "MPO", save_all=True, append_images=[second]), max_pixels=MAX_PIXELS)
    out = Image.open(io.BytesIO(clean.data))
    assert out.format == "JPEG" and getattr(out, "n_frames", 1) == 1
    assert out.getpixel((5, 5))[0] > 200


def test_large_images_are_shrunk_to_the_purpose_size():
    clean = clean_image(encode(Image.new("RGB", (4000, 3000), "gray"), "JPEG"), max_pixels=MAX_PIXELS, max_side=1000)
    assert (clean.width, clean.height) == (1000, 750)
    small = clean_image(encode(Image.new("RGB", (300, 200), "gray"), "PNG"), max_pixels=MAX_PIXELS, max_side=1000)
    assert (small.width, small.height) == (300, 200)


def test_a_text_file_named_jpg_is_refused():
    refused(b"Hello, this is not a picture at all.\n" * 10, "image_unsupported")
    refused(b"", "image_unsupported")


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO", "PDF"])
def test_other_image_formats_are_refused(fmt):
    refused(encode(Image.new("RGB", (16, 16), "red"), fmt), "image_unsupported")


def test_svg_is_refused():
    refused(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image_unsupported")


def test_a_decompression_bomb_is_refused_before_decoding():
    bomb = bomb_png(100_000, 100_000)  # 10 gigapixels in a file of a few dozen bytes
    assert len(bomb) < 100
    refused(bomb, "image_too_many_pixels")
    refused(bomb_png(8000, 8000), "image_too_many_pixels")  # 64 MP: over the 50 MP limit, under Pillow's own
    refused(encode(Image.new("RGB", (20, 20)), "PNG"), "image_too_many_pixels", max_pixels=399)


def test_truncated_and_corrupt_images_are_refused():
    photo = encode(Image.effect_noise((200, 200), 64).convert("RGB"), "JPEG")
    refused(photo[: len(photo) // 2], "image_corrupt")
    png = encode(Image.effect_noise((64, 64), 64), "PNG")
    refused(png[: len(png) - 30], "image_corrupt")
    broken = bytearray(png)
    broken[60:70] = b"\xff" * 10  # inside the image data: the checksum no longer matches
    refused(bytes(broken), "image_corrupt")
    refused(bomb_png(50, 50), "image_corrupt")  # a header promising more data than there is


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animated_images_are_refused(fmt):
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "green", "blue")]
    refused(encode(frames[0], fmt, save_all=True, append_images=frames[1:]), "image_animated")


SAMPLES = [
    photo_with_gps(),
    encode(Image.effect_noise((40, 30), 50).convert("RGB"), "PNG"),
    encode(Image.new("RGBA", (24, 24), (1, 2, 3, 4)), "WEBP"),
]


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.integers(min_value=0, max_value=4000),
    flips=st.lists(st.tuples(st.integers(min_value=0, max_value=4000), st.integers(0, 255)), max_size=8),
)
def test_no_damaged_input_gets_anything_but_a_rule_violation(sample, cut, flips):
    """Mutated real images (cut short, bytes changed): cleaned or refused with a 422, nothing else."""
    data = bytearray(sample[: max(1, len(sample) - cut)] if cut < len(sample) else sample)
    for position, value in flips:
        data[position % len(data)] = value
    try:
        clean = clean_image(bytes(data), max_pixels=MAX_PIXELS, max_side=2560)
    except RuleViolation:
        return
    assert_no_metadata(clean.data, markers=False)
    Image.open(io.BytesIO(clean.data)).load()
