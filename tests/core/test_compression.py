"""Compression (issue 19 §2): the PWA's files go out precompressed (brotli, else gzip) by Accept-Encoding,
API answers of 1 KB and more are gzipped on the fly, and nothing already compressed is compressed again."""

from __future__ import annotations

import contextlib
import gzip
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
from PIL import Image

from backend.app import create_app
from backend.core.static import accepted_encodings
from tests.conftest import make_settings

SCRIPT = ("export const greeting = '你好，大庆';\n" * 200).encode()
PAGE = (
    "<!doctype html><html lang='zh-CN'><body><div id=\"app\">大庆托育</div>" + " " * 2000 + "</body></html>"
).encode()


def _png() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((200, 200), 64).convert("RGB").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built app as `make pwa` leaves it: files with their .br and .gz twins; images without."""
    root = tmp_path_factory.mktemp("dist")
    (root / "assets").mkdir()
    (root / "icons").mkdir()
    for path, body in ((root / "assets" / "app-abc123.js", SCRIPT), (root / "index.html", PAGE)):
        path.write_bytes(body)
        path.with_name(path.name + ".br").write_bytes(brotli.compress(body))
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(body))
    (root / "icons" / "icon.png").write_bytes(_png())
    return root


@contextlib.asynccontextmanager
async def serving(engine: Any, dist: Path, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the built files, its lifespan entered and left in the test's own task."""
    app = create_app(make_settings(pwa_dir=dist, maintenance_interval_s=0, **overrides), engine=engine)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as client,
    ):
        yield client


def test_accept_encoding_is_parsed_with_its_weights() -> None:
    assert accepted_encodings("gzip, deflate, br, zstd") == {"gzip", "deflate", "br", "zstd"}
    assert accepted_encodings("br;q=0, gzip;q=0.5") == {"gzip"}
    assert accepted_encodings("identity") == {"identity"}
    assert accepted_encodings("*") >= {"br", "gzip"}
    assert accepted_encodings("br;q=nonsense, gzip") == {"gzip"}
    assert accepted_encodings("") == set()


@pytest.mark.parametrize(
    ("accept", "coding"),
    [("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"), ("identity", None), ("", None)],
)
async def test_static_files_go_out_precompressed_by_accept_encoding(
    engine, dist: Path, accept: str, coding: str | None
) -> None:
    async with serving(engine, dist) as web:
        for path, body in (("/assets/app-abc123.js", SCRIPT), ("/", PAGE), ("/bookings/123", PAGE)):
            r = await web.get(path, headers={"Accept-Encoding": accept, "Accept": "text/html"})
            assert r.status_code == 200, (path, r.text)
            assert r.headers.get("content-encoding") == coding, path
            assert "accept-encoding" in r.headers["vary"].lower(), path
            assert r.content == body, path  # httpx decoded what was sent
            if coding:
                assert int(r.headers["content-length"]) < len(body) / 3, path


async def test_hashed_assets_are_immutable_and_the_rest_is_revalidated(engine, dist: Path) -> None:
    async with serving(engine, dist) as web:
        asset = await web.get("/assets/app-abc123.js")
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["content-type"].startswith("text/javascript")
        page = await web.get("/")
        assert page.headers["cache-control"] == "no-cache"
        assert page.headers["content-type"] == "text/html; charset=utf-8"


async def test_twins_are_not_files_of_their_own_and_traversal_stays_out(engine, dist: Path) -> None:
    async with serving(engine, dist) as web:
        assert (await web.get("/assets/app-abc123.js.br")).status_code == 404
        assert (await web.get("/assets/app-abc123.js.gz")).status_code == 404
        assert (await web.get("/assets/../../etc/passwd")).status_code == 404


async def test_images_are_never_compressed_again(engine, dist: Path) -> None:
    async with serving(engine, dist) as web:
        r = await web.get("/icons/icon.png", headers={"Accept-Encoding": "gzip, br"})
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert "content-encoding" not in r.headers
        assert r.content == (dist / "icons" / "icon.png").read_bytes()
        assert len(r.content) > 1024  # large enough that only its type keeps it from being gzipped


async def test_api_json_above_a_kilobyte_is_gzipped_and_small_answers_are_not(engine, dist: Path) -> None:
    async with serving(engine, dist) as web:
        big = await web.get("/schema/openapi.json", headers={"Accept-Encoding": "gzip, br"})
        assert big.status_code == 200 and big.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in big.headers["vary"].lower()
        assert big.json()["openapi"].startswith("3.")
        assert int(big.headers["content-length"]) < len(big.content) / 4
        small = await web.get("/health", headers={"Accept-Encoding": "gzip, br"})
        assert small.status_code == 200 and len(small.content) < 1024
        assert "content-encoding" not in small.headers
        refused = await web.get("/schema/openapi.json", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in refused.headers and refused.json() == big.json()


async def test_compression_off_sends_everything_plain(engine, dist: Path) -> None:
    async with serving(engine, dist, compression=False) as plain:
        for path in ("/assets/app-abc123.js", "/", "/schema/openapi.json"):
            r = await plain.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
            assert r.status_code == 200, path
            assert "content-encoding" not in r.headers, path
