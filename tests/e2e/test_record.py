"""A worker opens 我的学时档案 from the home page on a tablet and downloads it as a PDF."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e


def test_worker_opens_own_record_and_downloads_the_pdf(live_server, tablet):
    page = tablet
    login(page, live_server, "worker")
    page.get_by_role("link", name="我的学时档案").click()
    page.wait_for_url(re.compile(r".*/users/worker/record$"))
    assert page.get_by_role("heading", name="我的学时档案").is_visible()
    for section in ("汇总", "课程学习", "线下培训", "测验成绩", "老带新", "证书"):
        assert page.get_by_role("heading", name=section, exact=True).is_visible(), section
    name = re.search(r"姓名：(\S+)", page.locator("main, body").first.inner_text()).group(1)
    # Nothing wider than the tablet: the tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    button = page.get_by_role("link", name="下载 PDF")
    assert button.bounding_box()["height"] >= 44
    shot(page, "record-01-mine-768x1024")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF")
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    assert "网格员学时档案" in text and name in text and "合计学时" in text
