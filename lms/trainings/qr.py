"""QR code as a small SVG built from reportlab's encoder (pure; no JS, no inline styles for the CSP)."""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

from reportlab.graphics.barcode import qrencoder

QUIET_ZONE = 4


def qr_svg(text: str, title: str = "签到二维码") -> str:
    """An SVG document drawing text as a QR code (error correction M), one path of dark modules."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    count = code.getModuleCount()
    size = count + 2 * QUIET_ZONE
    parts = []
    for row in range(count):
        col = 0
        while col < count:
            if code.isDark(row, col):
                start = col
                while col < count and code.isDark(row, col):
                    col += 1
                parts.append(f"M{start + QUIET_ZONE} {row + QUIET_ZONE}h{col - start}v1h-{col - start}z")
            else:
                col += 1
    label = quoteattr(title)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" aria-label={label} '
            f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(parts)}"/></svg>')
