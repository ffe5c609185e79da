"""Coordinate conversion against published reference points, and reading spreadsheets."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.imports.crs import (
    Crs,
    bd09_to_gcj02,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_daqing,
    to_wgs84,
    wgs84_to_gcj02,
)
from backend.imports.tables import MAX_ROWS, FileFormat, FileUnreadable, read_table, write_table

# Published reference values of the standard formulas (the coordtransform JS/Python packages' README,
# point 116.404, 39.915 — Tiananmen), and Beijing railway station in AMap (GCJ-02) and Baidu (BD-09).
WGS_TO_GCJ = ((116.404, 39.915), (116.41024449916938, 39.91640428150164))
GCJ_TO_BD = ((116.404, 39.915), (116.41036949371029, 39.92133699351021))
BD_TO_GCJ = ((116.404, 39.915), (116.39762729119315, 39.90865673957631))  # their closed-form inverse
GCJ_TO_WGS_APPROX = ((116.404, 39.915), (116.39775550083061, 39.91359571849836))  # their one-step inverse
STATION_GCJ, STATION_BD = (116.42703, 39.90245), (116.43351, 39.90851)


def close(a: tuple[float, float], b: tuple[float, float], tol: float) -> bool:
    return abs(a[0] - b[0]) <= tol and abs(a[1] - b[1]) <= tol


def test_published_points_both_directions():
    assert close(wgs84_to_gcj02(*WGS_TO_GCJ[0]), WGS_TO_GCJ[1], 1e-12)
    assert close(gcj02_to_bd09(*GCJ_TO_BD[0]), GCJ_TO_BD[1], 1e-12)
    assert close(bd09_to_gcj02(*BD_TO_GCJ[0]), BD_TO_GCJ[1], 1e-5)  # closed form; ours is refined
    assert close(gcj02_to_bd09(*bd09_to_gcj02(*BD_TO_GCJ[0])), BD_TO_GCJ[0], 1e-9)
    # Our inverse is exact (iterated); the published one-step inverse is within a metre of it.
    assert close(gcj02_to_wgs84(*GCJ_TO_WGS_APPROX[0]), GCJ_TO_WGS_APPROX[1], 1e-5)
    assert close(wgs84_to_gcj02(*gcj02_to_wgs84(*WGS_TO_GCJ[1])), WGS_TO_GCJ[1], 1e-9)
    assert close(gcj02_to_wgs84(*WGS_TO_GCJ[1]), WGS_TO_GCJ[0], 1e-8)
    assert close(gcj02_to_bd09(*STATION_GCJ), STATION_BD, 1e-5)
    assert close(bd09_to_gcj02(*STATION_BD), STATION_GCJ, 1e-5)


@settings(max_examples=200, deadline=None)
@given(st.floats(123.5, 126.0), st.floats(45.2, 47.7), st.sampled_from(list(Crs)))
def test_round_trip_in_daqing(lng, lat, crs):
    back = to_wgs84(crs, *from_wgs84(crs, lng, lat))
    assert close(back, (lng, lat), 1e-7)


def test_daqing_offset_is_hundreds_of_metres_and_area_check():
    centre = (125.10, 46.59)
    g = wgs84_to_gcj02(*centre)
    assert 0.003 < abs(g[0] - centre[0]) + abs(g[1] - centre[1]) < 0.02
    assert in_daqing(*centre) and in_daqing(124.44, 46.87) and in_daqing(125.08, 45.52)
    assert not in_daqing(126.63, 45.75)  # Harbin
    assert not in_daqing(116.404, 39.915)


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b"")])
def test_csv_encodings_detected(encoding, bom):
    content = bom + "机构名称,所属区县\n龙凤区阳光托育,龙凤区\n".encode(encoding)
    table = read_table(content)
    assert table.format is FileFormat.CSV
    assert table.header == ["机构名称", "所属区县"]
    assert table.rows == [["龙凤区阳光托育", "龙凤区"]]


def test_xlsx_and_csv_write_read_identity_with_formula_like_text():
    rows = [["=HYPERLINK(1)", "+86 459", "-", "普通"], ["", "0459", "1.50", "12"]]
    for fmt in FileFormat:
        table = read_table(write_table(fmt, ["甲", "乙", "丙", "丁"], rows))
        assert table.rows == rows, fmt
    assert b"'=HYPERLINK" in write_table(FileFormat.CSV, ["甲"], [["=HYPERLINK(1)"]])


@pytest.mark.parametrize(
    "content",
    [b"", b"PK\x03\x04garbage", b"\xff\xfe\x00\x00\x81", b"\n\n,,\n", b"\x80\x81\x82\xff" * 3],
)
def test_unreadable_files_are_422(content):
    with pytest.raises(FileUnreadable) as refused:
        read_table(content)
    assert refused.value.status_code == 422


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_no_byte_sequence_crashes_the_reader(content):
    with contextlib.suppress(FileUnreadable):
        read_table(content)


@pytest.mark.parametrize("fmt", list(FileFormat))
def test_a_title_and_notes_above_the_header_are_kept_aside(fmt):
    """Departments' lists start with a title (one merged cell) and notes: the header is the first row
    with two cells filled in, and row numbers stay the spreadsheet's own."""
    above = [["大庆市托育机构备案名单（2024年）", "", ""], ["", "", ""], ["填报单位：市卫生健康委员会", "", ""]]
    content = write_table(fmt, ["机构名称", "所属区县", "地址"], [["阳光托育", "龙凤区", "龙凤区某路1号"]], above=above)
    table = read_table(content)
    assert table.header == ["机构名称", "所属区县", "地址"] and table.rows == [["阳光托育", "龙凤区", "龙凤区某路1号"]]
    assert table.header_row == 4 and table.above[0][0] == "大庆市托育机构备案名单（2024年）"


def test_a_one_column_file_keeps_its_first_row_as_the_header():
    assert read_table("名称\n甲\n".encode()).header == ["名称"]


@pytest.mark.parametrize("fmt", list(FileFormat))
def test_at_most_20000_data_rows_whatever_is_above_them(fmt):
    above = [["大庆市母婴室名单", ""], ["", ""]]
    rows = [[f"R{i}", "甲"] for i in range(MAX_ROWS)]
    assert len(read_table(write_table(fmt, ["来源编号", "名称"], rows, above=above)).rows) == MAX_ROWS
    with pytest.raises(FileUnreadable) as refused:
        read_table(write_table(fmt, ["来源编号", "名称"], [*rows, ["R-last", "甲"]], above=above))
    assert refused.value.code == "too_many_rows"
