"""The server-side QR SVG."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from lms.trainings.qr import qr_svg


def test_qr_svg_is_a_single_path_without_inline_styles():
    svg = qr_svg("http://lms.test/trainings/7/checkin?code=123456", title="签到 <二维码>")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "style=" not in svg and "<script" not in svg
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None and path.get("d").startswith("M4 4h7")  # finder pattern in the top-left corner
    assert root.get("aria-label") == "签到 <二维码>"


def test_longer_text_gives_a_larger_symbol():
    small = ET.fromstring(qr_svg("x")).get("viewBox")
    large = ET.fromstring(qr_svg("http://lms.test/" + "a" * 200)).get("viewBox")
    assert int(large.split()[2]) > int(small.split()[2])
