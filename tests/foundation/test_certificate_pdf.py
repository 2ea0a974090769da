"""The PDF e-certificate (heze_common.certificate_pdf): the attached credential comes back
byte-exact (and changed when the file was changed), the Chinese text is real text in an embedded
font, and the QR code printed on the page scans back to the verification link."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from heze_common.testing import with_attached_credential
from heze_common.certificate_pdf import (
    CREDENTIAL_FILE_NAME,
    FONT_FILE_VARIABLE,
    FONT_FILES,
    CertificateSheet,
    NotACertificate,
    attached_credential,
    certificate_font_file,
    render_certificate,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = REPO_ROOT / "test-artefacts" / "certificates"
HOLDER = "欧阳娜娜"
NUMBER = "HZSZ2026-2020713-J-000001"
# A compact JWS: header.payload.signature, base64url.
CREDENTIAL = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6IjNmMmEifQ"
    ".eyJzdWIiOiJIWlNaMjAyNi0yMDIwNzEzLUotMDAwMDAxIiwibmFtZSI6Iuasp-mYs-WomOWomCJ9"
    ".c2lnbmF0dXJlLWJ5dGVzLWdvLWhlcmUtNjQtb2YtdGhlbQ"
)
SHEET = CertificateSheet(
    title="专业技术人员职业技能等级证书",
    rows=(
        ("姓名", HOLDER),
        ("性别", "女"),
        ("身份证号", "371702********1234"),
        ("职业（工种）", "人工智能工程技术人员"),
        ("技能等级", "三级 / 高级工"),
        ("证书编号", NUMBER),
        ("发证日期", "2026年6月30日"),
    ),
    issuer="菏泽市数字技术工程师培育项目 评价机构 3f2a9c1e",
    verification_link=f"https://verify.heze.example.cn/certificates/{NUMBER}?key=3f2a9c1e",
    credential=CREDENTIAL,
)


@pytest.fixture(scope="module")
def certificate() -> bytes:
    return render_certificate(SHEET)


def plain_pdf() -> bytes:
    page = io.BytesIO()
    canvas = Canvas(page)
    canvas.drawString(100, 700, "no credential here")
    canvas.showPage()
    canvas.save()
    return page.getvalue()


def test_the_credential_and_the_text_come_back(certificate: bytes) -> None:
    assert attached_credential(certificate) == CREDENTIAL
    text = PdfReader(io.BytesIO(certificate)).pages[0].extract_text()
    assert HOLDER in text
    assert NUMBER in text
    assert SHEET.title in text


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a PDF"),
        ("姓名：欧阳娜娜".encode(), "not a PDF"),
        (b"%PDF-1.7\nnothing after the header", "not a readable PDF"),
        (plain_pdf(), f"no attached {CREDENTIAL_FILE_NAME}"),
    ],
    ids=["empty", "text", "truncated", "no-attachment"],
)
def test_anything_else_is_not_a_certificate(content: bytes, reason: str) -> None:
    with pytest.raises(NotACertificate, match=reason):
        attached_credential(content)


def test_a_changed_attachment_is_returned_as_changed(certificate: bytes) -> None:
    """Extraction hides nothing: the verifier is handed the changed credential, whose signature
    then fails."""
    flipped = CREDENTIAL[:50] + ("A" if CREDENTIAL[50] != "A" else "B") + CREDENTIAL[51:]
    tampered = with_attached_credential(certificate, flipped)

    assert attached_credential(tampered) == flipped
    assert flipped != CREDENTIAL


def test_a_configured_font_file_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(FONT_FILE_VARIABLE, str(tmp_path / "missing.ttf"))
    with pytest.raises(FileNotFoundError, match=FONT_FILE_VARIABLE):
        certificate_font_file()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_the_rendered_qr_code_scans_back_to_the_link(certificate: bytes, tmp_path: Path) -> None:
    pdf = tmp_path / "level-certificate.pdf"
    pdf.write_bytes(certificate)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTEFACTS / "level-certificate.png"
    shutil.copyfile(tmp_path / "page.png", png)

    decoded = [barcode.text for barcode in zxingcpp.read_barcodes(Image.open(png))]
    assert decoded == [SHEET.verification_link]


@pytest.mark.skipif(not FONT_FILES[0].is_file(), reason="fonts-wqy-microhei is not installed")
def test_the_chinese_font_is_embedded(certificate: bytes) -> None:
    resources = PdfReader(io.BytesIO(certificate)).pages[0]["/Resources"]
    fonts = [font.get_object() for font in resources["/Font"].values()]
    embedded = [
        str(font["/BaseFont"])
        for font in fonts
        if "/FontDescriptor" in font and "/FontFile2" in font["/FontDescriptor"].get_object()
    ]
    assert any(
        marker in name for name in embedded for marker in ("WenQuanYi", "wqy", "Noto")
    ), embedded
