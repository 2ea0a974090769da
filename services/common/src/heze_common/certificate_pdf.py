"""The PDF e-certificate of the Heze digital technology engineer programme: one A4 landscape page
with the title, the holder's rows, the issuer, a red electronic seal and a QR code that leads to
the verification page, and the signed credential attached as the embedded file "credential.jwt".

The seal is a picture only: what makes the certificate genuine is the signature of the attached
credential (and the verification page the QR code opens), never anything drawn on the page.

The Chinese text is set in a TrueType font embedded in the PDF (a subset, with a ToUnicode map, so
the text can be searched and copied): the file named by the environment variable
CERTIFICATE_FONT_FILE if set, else the first of Debian's CJK fonts in FONT_FILES that is present.
When none is, the text is set in reportlab's CID font STSong-Light, which is not embedded: the
viewer supplies a Song face of its own (every PDF viewer with Asian font support does), and text
extraction is not guaranteed then.
"""

from __future__ import annotations

import functools
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color, white
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

CREDENTIAL_FILE_NAME = "credential.jwt"
FONT_FILE_VARIABLE = "CERTIFICATE_FONT_FILE"
FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)
EMBEDDED_FONT_NAME = "HezeCertificateCJK"
FALLBACK_CID_FONT = "STSong-Light"

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
INK = Color(0.12, 0.12, 0.16)
FRAME = Color(0.55, 0.12, 0.10)
GOLD = Color(0.72, 0.56, 0.25)
PAPER = Color(1.0, 0.99, 0.96)
SEAL_RED = Color(0.85, 0.10, 0.10, alpha=0.88)

# Layout, in points from the bottom left corner of the page (842 x 595).
ROWS_TOP = 428
ROWS_BOTTOM = 150
LABEL_RIGHT = 350  # labels right-aligned here, values start after the colon
VALUE_RIGHT = PAGE_WIDTH - 90
SEAL_CENTRE = (PAGE_WIDTH - 190, 122)
SEAL_RADIUS = 62
ARC_SPAN = math.radians(250)  # the seal's text runs clockwise over the top, the bottom left open
QR_LEFT, QR_BOTTOM = 70, 64
# 150 pt is 312 px at 150 dpi: 6 px or more per module for the links the programme prints.
QR_SIZE = 150
QR_QUIET_MODULES = 4


class NotACertificate(ValueError):
    """The bytes are not a PDF, or a PDF without an attached credential."""


@dataclass(frozen=True)
class CertificateSheet:
    """What one certificate page says."""

    title: str
    rows: Sequence[tuple[str, str]]
    issuer: str
    verification_link: str
    credential: str

    def __post_init__(self) -> None:
        if not self.verification_link.startswith(("https://", "http://")):
            raise ValueError(f"the verification link is an http(s) URL: {self.verification_link!r}")
        if not self.credential:
            raise ValueError("a certificate carries its signed credential; it is empty")


def certificate_font_file() -> Path | None:
    """The TrueType font to embed, or None when no CJK font is installed."""
    configured = os.environ.get(FONT_FILE_VARIABLE)
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FileNotFoundError(f"{FONT_FILE_VARIABLE} names {path}, which is not a file")
        return path
    return next((path for path in FONT_FILES if path.is_file()), None)


@functools.cache
def certificate_font() -> str:
    """The registered name of the page's font; registered once per process."""
    path = certificate_font_file()
    if path is None:
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
        return FALLBACK_CID_FONT
    # A .ttc holds several faces; the first is the regular one in each of Debian's files (a .ttf
    # has only the one, and reportlab ignores the index for it).
    pdfmetrics.registerFont(TTFont(EMBEDDED_FONT_NAME, str(path), subfontIndex=0))
    return EMBEDDED_FONT_NAME


def render_certificate(sheet: CertificateSheet) -> bytes:
    """The certificate as PDF bytes, the credential attached."""
    font = certificate_font()
    page = io.BytesIO()
    # The CJK font from the start, so the page names no Helvetica it never uses.
    canvas = Canvas(page, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), initialFontName=font)
    canvas.setTitle(sheet.title)
    draw_frame(canvas)
    draw_title(canvas, font, sheet.title)
    draw_rows(canvas, font, sheet.rows)
    draw_issuer(canvas, font, sheet.issuer)
    draw_qr_code(canvas, font, sheet.verification_link)
    canvas.showPage()
    canvas.save()
    return attach_credential(page.getvalue(), sheet.credential)


def attach_credential(pdf: bytes, credential: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer.add_attachment(CREDENTIAL_FILE_NAME, credential.encode("utf-8"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attached_credential(pdf: bytes) -> str:
    """The credential attached to a certificate, as attached: checking it is the verifier's job."""
    if not pdf.startswith(b"%PDF-"):
        raise NotACertificate("not a PDF: the file does not start with %PDF-")
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
        contents = attachments.get(CREDENTIAL_FILE_NAME)
    except (PyPdfError, ValueError, KeyError, TypeError) as error:
        raise NotACertificate(f"not a readable PDF: {error}") from error
    if not contents:
        raise NotACertificate(f"the PDF has no attached {CREDENTIAL_FILE_NAME}")
    if len(contents) > 1:
        # Which one a viewer would show is up to the viewer; refuse rather than guess.
        raise NotACertificate(
            f"the PDF has {len(contents)} attachments named {CREDENTIAL_FILE_NAME}"
        )
    try:
        return contents[0].decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotACertificate(f"the attached {CREDENTIAL_FILE_NAME} is not UTF-8 text") from error


def draw_frame(canvas: Canvas) -> None:
    canvas.setFillColor(PAPER)
    canvas.rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT, stroke=0, fill=1)
    canvas.setStrokeColor(FRAME)
    canvas.setLineWidth(6)
    canvas.rect(22, 22, PAGE_WIDTH - 44, PAGE_HEIGHT - 44)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(1.2)
    canvas.rect(32, 32, PAGE_WIDTH - 64, PAGE_HEIGHT - 64)
    canvas.rect(36, 36, PAGE_WIDTH - 72, PAGE_HEIGHT - 72)


def draw_title(canvas: Canvas, font: str, title: str) -> None:
    size = fitting_size(title, font, 34, PAGE_WIDTH - 160)
    canvas.setFillColor(FRAME)
    canvas.setFont(font, size)
    canvas.drawCentredString(PAGE_WIDTH / 2, 482, title)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(1)
    canvas.line(PAGE_WIDTH / 2 - 200, 466, PAGE_WIDTH / 2 + 200, 466)


def draw_rows(canvas: Canvas, font: str, rows: Sequence[tuple[str, str]]) -> None:
    if not rows:
        return
    step = min(32.0, (ROWS_TOP - ROWS_BOTTOM) / len(rows))
    base_size = min(16.0, step * 0.6)
    canvas.setFillColor(INK)
    for index, (label, value) in enumerate(rows):
        y = ROWS_TOP - index * step
        canvas.setFont(font, base_size)
        canvas.drawRightString(LABEL_RIGHT, y, f"{label}：")
        value_left = LABEL_RIGHT + 8
        canvas.setFont(font, fitting_size(value, font, base_size, VALUE_RIGHT - value_left))
        canvas.drawString(value_left, y, value)


def draw_issuer(canvas: Canvas, font: str, issuer: str) -> None:
    """The issuer's line, the seal's rim touching its end as a paper certificate has it (no
    further in, so the line stays legible)."""
    seal_x, seal_y = SEAL_CENTRE
    line_right = seal_x - SEAL_RADIUS + 2
    line_left = QR_LEFT + QR_SIZE + 30
    canvas.setFillColor(INK)
    canvas.setFont(font, fitting_size(issuer, font, 14, line_right - line_left))
    canvas.drawRightString(line_right, seal_y - 4, issuer)
    draw_seal(canvas, font, issuer, seal_x, seal_y)


def draw_seal(canvas: Canvas, font: str, issuer: str, x: float, y: float) -> None:
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(3.2)
    canvas.circle(x, y, SEAL_RADIUS)
    canvas.setLineWidth(0.8)
    canvas.circle(x, y, SEAL_RADIUS - 5)
    draw_star(canvas, x, y + 4, 17)
    canvas.setFont(font, 9)
    canvas.drawCentredString(x, y - 30, "证书专用章")
    draw_arc_text(canvas, font, issuer, x, y, SEAL_RADIUS - 18)
    canvas.restoreState()


def draw_star(canvas: Canvas, x: float, y: float, radius: float) -> None:
    path = canvas.beginPath()
    for point in range(10):
        angle = math.pi / 2 + point * math.pi / 5
        reach = radius if point % 2 == 0 else radius * 0.38
        px, py = x + reach * math.cos(angle), y + reach * math.sin(angle)
        if point == 0:
            path.moveTo(px, py)
        else:
            path.lineTo(px, py)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)


def draw_arc_text(canvas: Canvas, font: str, text: str, x: float, y: float, radius: float) -> None:
    """`text` along a circle, each character upright towards the rim, as a seal's text runs."""
    size = min(13.0, ARC_SPAN * radius / max(pdfmetrics.stringWidth(text, font, 1), 1e-6))
    gap = size * 0.08  # a little air between the characters
    widths = [pdfmetrics.stringWidth(char, font, size) + gap for char in text]
    angle = math.pi / 2 + sum(widths) / radius / 2
    canvas.setFont(font, size)
    for char, width in zip(text, widths, strict=True):
        middle = angle - width / radius / 2
        canvas.saveState()
        canvas.translate(x + radius * math.cos(middle), y + radius * math.sin(middle))
        canvas.rotate(math.degrees(middle) - 90)
        canvas.drawCentredString(0, 0, char)
        canvas.restoreState()
        angle -= width / radius


def draw_qr_code(canvas: Canvas, font: str, link: str) -> None:
    widget = QrCodeWidget(link, barLevel="M", barBorder=QR_QUIET_MODULES)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        QR_SIZE,
        QR_SIZE,
        transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0],
    )
    drawing.add(widget)
    # The widget's border is blank, not white: paint it so the quiet zone is white on any paper.
    canvas.setFillColor(white)
    canvas.rect(QR_LEFT, QR_BOTTOM, QR_SIZE, QR_SIZE, stroke=0, fill=1)
    renderPDF.draw(drawing, canvas, QR_LEFT, QR_BOTTOM)
    canvas.setFillColor(INK)
    canvas.setFont(font, 11)
    canvas.drawCentredString(QR_LEFT + QR_SIZE / 2, QR_BOTTOM - 12, "扫码核验")


def fitting_size(text: str, font: str, size: float, width: float) -> float:
    """`size`, or smaller so that `text` fits in `width`."""
    natural = pdfmetrics.stringWidth(text, font, size)
    return size if natural <= width else size * width / natural
