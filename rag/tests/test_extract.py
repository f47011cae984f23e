"""Text extraction from every supported format, and every refusal, on fixtures built here."""

from __future__ import annotations

import io
import os
import random
import zipfile

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from rag.errors import ExtractionError
from rag.extract import check_size, extract_from_url_response, extract_text

# --- fixture builders ------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]], *, title: str | None = None, password: str | None = None) -> bytes:
    """A real PDF whose pages draw the given lines with Helvetica (so it has a text layer)."""
    writer = PdfWriter()
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })
    font_ref = writer._add_object(font)
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        if not lines:
            continue  # a page with no text layer, like a scanned image
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
        operations = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            operations.append(f"({escaped}) Tj T*")
        operations.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(operations).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if title:
        writer.add_metadata({"/Title": title})
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner-" + password, algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Team handbook"
    document.add_heading("Handbook", level=1)
    document.add_paragraph("Welcome to the team. Read this first.")
    document.add_heading("Holidays", level=2)
    document.add_paragraph("Ask your manager two weeks ahead.")
    document.add_paragraph("Plan early", style="List Bullet")
    document.add_paragraph("Tell the team", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Month", "Days"
    table.cell(1, 0).text, table.cell(1, 1).text = "August", "10"
    document.add_paragraph("Closing words.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def assert_refused(fragment: str, **kwargs) -> ExtractionError:
    with pytest.raises(ExtractionError) as caught:
        extract_text(**kwargs)
    assert fragment.lower() in caught.value.message.lower(), caught.value.message
    assert str(caught.value) == caught.value.message
    return caught.value


# --- plain text and Markdown --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "Café con leña: ¿qué tal?\n".encode("utf-8"),
        "Café con leña: ¿qué tal?\n".encode("utf-8-sig"),
        "Café con leña: ¿qué tal?\n".encode("utf-16"),  # with BOM
        "Café con leña: ¿qué tal?\n".encode("cp1252"),
        "Café con leña: ¿qué tal?\n".encode("latin-1"),
    ],
    ids=["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"],
)
def test_text_is_decoded_with_fallbacks(data):
    document = extract_text(data=data, filename="notes.txt")
    assert document.text == "Café con leña: ¿qué tal?"
    assert document.format == "txt"
    assert document.title == "notes"


def test_text_newlines_and_blank_lines_are_normalised():
    document = extract_text(data=b"First line  \r\nsecond\r\n\r\n\r\n\r\nThird paragraph\n", filename="a.txt")
    assert document.text == "First line\nsecond\n\nThird paragraph"


def test_markdown_stays_markdown_and_title_is_first_h1():
    source = "Intro line\n\n# Guide\n\nSome text.\n\n## Install\n\n- step one\n- step two\n"
    document = extract_text(data=source.encode(), filename="guide.md")
    assert document.format == "md"
    assert document.text == source.strip()
    assert document.title == "Guide"


def test_pasted_text_without_a_name_is_titled_by_its_first_line():
    document = extract_text(data=b"Meeting notes for Monday\n\nWe agreed on the plan.", filename="")
    assert document.format == "txt"
    assert document.title == "Meeting notes for Monday"


# --- HTML ----------------------------------------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Travel guide</title>
<style>body { color: red }</style><script>var tracking = "SECRET_SCRIPT";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/about">NAVIGATION_LINK</a></nav>
<h1>Planning a trip</h1>
<p>Start <b>early</b>, and compare
   prices.</p>
<h2>Documents</h2>
<ul><li>Passport</li><li>Visa<ul><li>Tourist visa</li></ul></li></ul>
<ol><li>Book the flight</li><li>Book the hotel</li></ol>
<table><tr><th>Item</th><th>Cost</th></tr><tr><td>Flight</td><td>300</td></tr></table>
<div hidden>HIDDEN_TEXT</div>
<p>Line one<br>Line two</p>
</body></html>"""


def test_html_becomes_markdown_with_headings_paragraphs_and_lists():
    document = extract_text(data=HTML_PAGE.encode(), filename="guide.html")
    assert document.format == "html"
    assert document.title == "Travel guide"
    text = document.text
    assert "# Planning a trip\n\nStart early, and compare prices.\n\n## Documents" in text
    assert "- Passport\n- Visa\n  - Tourist visa" in text
    assert "- Book the flight\n- Book the hotel" in text
    assert "Item | Cost\nFlight | 300" in text
    assert "Line one\nLine two" in text
    for hidden in ("SECRET_SCRIPT", "color: red", "NAVIGATION_LINK", "HIDDEN_TEXT"):
        assert hidden not in text


def test_html_title_falls_back_to_first_h1_and_heading_levels_survive():
    page = "<html><body><h1>Main</h1><h3>Deep</h3><p>Body.</p><h6>Deepest</h6></body></html>"
    document = extract_text(data=page.encode(), filename="page.htm")
    assert document.title == "Main"
    assert document.text == "# Main\n\n### Deep\n\nBody.\n\n###### Deepest"


def test_html_is_detected_by_content_in_a_txt_file_and_without_a_name():
    assert extract_text(data=HTML_PAGE.encode(), filename="saved.txt").format == "html"
    assert extract_text(data=HTML_PAGE.encode(), filename="").format == "html"
    fragment = b"<p>Just a <b>fragment</b>.</p>"
    assert extract_text(data=fragment, filename="", content_type="text/html").text == "Just a fragment."


def test_html_meta_charset_is_honoured():
    page = '<html><head><meta charset="windows-1252"><title>Caf\xe9</title></head><body><p>Ni\xf1o</p></body></html>'
    document = extract_text(data=page.encode("cp1252"), filename="old.html")
    assert document.title == "Café"
    assert document.text == "Niño"


# --- PDF -----------------------------------------------------------------------------------------------


def test_pdf_text_per_page_and_title_from_metadata():
    data = make_pdf([["Annual report", "Sales grew by ten percent."], ["Second page text."]], title="Report 2024")
    document = extract_text(data=data, filename="report.pdf")
    assert document.format == "pdf"
    assert document.title == "Report 2024"
    assert document.text == "Annual report\nSales grew by ten percent.\n\nSecond page text."


def test_pdf_title_falls_back_to_first_line_and_is_detected_without_extension():
    data = make_pdf([["Quarterly summary", "All good."]])
    document = extract_text(data=data, filename="upload", content_type="application/octet-stream")
    assert document.format == "pdf"
    assert document.title == "Quarterly summary"


def test_pdf_with_an_empty_owner_password_only_is_read():
    data = make_pdf([["Readable despite restrictions."]], password="")
    assert b"/Encrypt" in data
    assert extract_text(data=data, filename="restricted.pdf").text == "Readable despite restrictions."


def test_encrypted_pdf_is_refused():
    data = make_pdf([["Top secret"]], password="s3cret")
    assert_refused("password", data=data, filename="secret.pdf")


def test_corrupt_pdf_is_refused():
    data = make_pdf([["Some text here."], ["More text."]])
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        assert_refused("damaged", data=data[:cut], filename="broken.pdf")
    # Garbage after a valid header is not a PDF either.
    assert_refused("damaged", data=b"%PDF-1.7\n" + os.urandom(2000) + b"\n%%EOF\n", filename="noise.pdf")


def test_pdf_without_text_layer_is_refused():
    assert_refused("no extractable text", data=make_pdf([[], []]), filename="scan.pdf")


def test_file_named_pdf_that_is_not_a_pdf_is_refused():
    assert_refused("not really a PDF", data=b"just some words", filename="fake.pdf")


# --- DOCX ----------------------------------------------------------------------------------------------


def test_docx_headings_lists_and_tables():
    document = extract_text(data=make_docx(), filename="handbook.docx")
    assert document.format == "docx"
    assert document.title == "Team handbook"
    assert document.text == (
        "# Handbook\n\nWelcome to the team. Read this first.\n\n## Holidays\n\n"
        "Ask your manager two weeks ahead.\n\n- Plan early\n- Tell the team\n\n"
        "Month | Days\nAugust | 10\n\nClosing words."
    )


def test_corrupt_docx_is_refused():
    data = make_docx()
    assert_refused("damaged", data=data[: len(data) // 2], filename="broken.docx")
    # A valid zip that is not a Word document.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert_refused("damaged", data=buffer.getvalue(), filename="fake.docx")
    assert_refused("archive", data=buffer.getvalue(), filename="upload")
    assert_refused("damaged", data=b"plain words, not a zip", filename="fake.docx")


# --- CSV -----------------------------------------------------------------------------------------------


def test_csv_rows_are_rendered_as_column_value_pairs():
    data = "name,city,age\nAna,Madrid,34\nBob,,41\n\n".encode()
    document = extract_text(data=data, filename="people.csv")
    assert document.format == "csv"
    assert document.title == "people"
    assert document.text == "Columns: name, city, age\n\nname: Ana; city: Madrid; age: 34\nname: Bob; age: 41"


def test_csv_delimiter_is_sniffed():
    data = 'producto;precio;nota\nCafé;2,50;"muy bueno; fuerte"\nTé;1,80;suave\n'.encode("cp1252")
    document = extract_text(data=data, filename="precios.csv")
    assert "producto: Café; precio: 2,50; nota: muy bueno; fuerte" in document.text
    tab_separated = extract_text(data=b"a\tb\n1\t2\n", filename="data.tsv")
    assert tab_separated.text.endswith("a: 1; b: 2")


# --- refusals --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  "], ids=["empty", "whitespace"])
def test_empty_documents_are_refused(data):
    assert_refused("empty", data=data, filename="empty.txt")


def test_binary_files_are_refused():
    rng = random.Random(7)
    noise = bytes(rng.randrange(256) for _ in range(4096)) + b"\x00\x00"
    assert_refused("not a readable text", data=noise, filename="notes.txt")
    assert_refused("not a readable text", data=b"text\x00with\x00nul", filename="")
    no_nul = bytes(rng.randrange(1, 256) for _ in range(4096))
    assert_refused("not a readable text", data=no_nul, filename="data.md")


@pytest.mark.parametrize("filename", ["setup.exe", "old.doc", "sheet.xlsx", "photo.png"])
def test_unsupported_extensions_are_refused(filename):
    error = assert_refused("not supported", data=b"anything", filename=filename)
    assert "pdf" in error.message and "docx" in error.message


def test_size_limit(settings):
    settings.RAG_MAX_UPLOAD_BYTES = 1000
    check_size(1000)
    with pytest.raises(ExtractionError) as caught:
        check_size(1001)
    assert "too large" in caught.value.message
    assert_refused("too large", data=b"x" * 1001, filename="big.txt")
    assert extract_text(data=b"x" * 1000, filename="fits.txt").text == "x" * 1000


# --- fetched pages --------------------------------------------------------------------------------------


def test_url_response_uses_content_type_and_charset():
    page = "<html><head><title>Precios</title></head><body><h1>Tarifas</h1><p>Año 2024</p></body></html>"
    document = extract_from_url_response(page.encode("latin-1"), "text/html; charset=ISO-8859-1",
                                         "https://example.com/precios")
    assert document.format == "html"
    assert document.title == "Precios"
    assert document.text == "# Tarifas\n\nAño 2024"


def test_url_response_formats():
    pdf = extract_from_url_response(make_pdf([["Fetched PDF"]]), "application/pdf", "https://example.com/doc")
    assert (pdf.format, pdf.text) == ("pdf", "Fetched PDF")
    markdown = extract_from_url_response(b"# Notes\n\nHello", "application/octet-stream",
                                         "https://example.com/notes.md")
    assert (markdown.format, markdown.title) == ("md", "Notes")
    plain = extract_from_url_response(b"Plain body", "text/plain", "https://example.com/")
    assert (plain.format, plain.title) == ("txt", "example.com")
    with pytest.raises(ExtractionError) as caught:
        extract_from_url_response(b"\x89PNG\r\n\x1a\n", "image/png", "https://example.com/a.png")
    assert "image/png" in caught.value.message
