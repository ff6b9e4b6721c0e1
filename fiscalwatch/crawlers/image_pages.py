"""An image-only disclosure (a detail page whose budget is a series of scanned pages shown as images) fetched
as one file: the page's images, in page order, in a zip that always packs the same images into the same bytes,
so an unchanged publication keeps its content hash and a changed image makes a new version."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from fiscalwatch.crawlers.discover import FileTypes, image_pages
from fiscalwatch.crawlers.http import Fetcher, FetchResult

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def fetch_image_pages(fetcher: Fetcher, url: str, files: FileTypes, *, etag: str | None = None,
                      last_modified: str | None = None) -> FetchResult:
    """The page at ``url`` (conditionally) with its images bundled into ``content``; failed when an image
    cannot be downloaded (nothing partial is kept), they exceed max_file_bytes together (``too_large``), or
    the page shows none any more (``no_images``)."""
    page = fetcher.fetch(url, etag=etag, last_modified=last_modified, accept_html=True)
    if not page.ok or page.not_modified:
        return page
    if page.text is None:
        return page.fail("not_html", "图片页地址返回的不是网页")
    urls = image_pages(page.text, page.final_url, files)
    if not urls:
        return page.fail("no_images", "页面上已没有预决算图片（可能已撤下）")
    images, total = [], 0
    for number, image_url in enumerate(urls, 1):
        image = fetcher.fetch_file(image_url)
        if not image.ok:
            return page.fail(image.error_code, f"第{number}页图片无法下载（{image_url}）：{image.error}")
        total += len(image.content)
        if total > fetcher.settings.max_file_bytes:
            return page.fail("too_large", f"页面上的{len(urls)}张图片合计超过文件大小上限，已停止下载")
        images.append((image_url, image.content))
    page.content, page.text, page.content_type = bundle(images), None, "application/zip"
    return page


def bundle(images: list[tuple[str, bytes]]) -> bytes:
    """The images as stored members 001.jpg, 002.png, … with fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, (url, content) in enumerate(images, 1):
            suffix = PurePosixPath(urlsplit(url).path).suffix.lower()[:6] or ".img"
            archive.writestr(zipfile.ZipInfo(f"{number:03d}{suffix}", _FIXED_TIME), content)
    return buffer.getvalue()
