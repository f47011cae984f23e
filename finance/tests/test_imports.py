"""CSV and OFX import: bad rows reported with line and reason and nothing imported, duplicates
skipped, the size and encoding guards, undo of the last import, and the export."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from core.tenancy import tenant
from finance import imports
from finance.errors import FinanceError, ImportRefused
from finance.models import ImportBatch, ImportMapping, Transaction
from testutils.testing import client_for, make_user

from .helpers import account, balance, expense, profile

pytestmark = pytest.mark.django_db
D = Decimal
MAPPING = {"delimiter": ",", "date_format": "%Y-%m-%d", "decimal": ".", "date": "Date", "description": "Description", "amount": "Amount",
           "debit": "", "credit": "", "category": ""}

OFX = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20240301120000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>123456789<ACCTID>000111<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20240201<DTEND>20240229
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240205<TRNAMT>-42.10<FITID>F-1<NAME>Grocer</STMTTRN>
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240210<TRNAMT>1500.00<FITID>F-2<NAME>Payroll</STMTTRN>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240212<TRNAMT>-9.99<FITID>F-3<NAME>Music</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>1447.91<DTASOF>20240229</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


@pytest.fixture
def owner(db):
    return make_user("imp@example.com")


@pytest.fixture
def setup(owner):
    p = profile(owner)
    return p, account(p)


def _csv(text, name="bank.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _count(owner):
    with tenant(owner.id):
        return Transaction.objects.filter(user=owner).count()


def test_csv_with_bad_rows_imports_nothing_and_names_each_line(owner, setup):
    p, acc = setup
    text = "Date,Description,Amount\n2024-01-02,Coffee,-3.50\n2024-13-01,Bad date,-1\n2024-01-03,Comma,\"12,50\"\n2024-01-04,,-2\n2024-01-05,Zero,0\n"
    preview = imports.preview_create(p, account=acc, upload=_csv(text), source="CSV", mapping=MAPPING)
    lines = dict(preview.errors)
    assert set(lines) == {3, 4, 5, 6}
    assert "not a date like 2024-01-31" in lines[3]
    assert "comma for decimals" in lines[4]
    assert "description is empty" in lines[5]
    assert "zero" in lines[6]
    assert preview.batch is None
    assert _count(owner) == 0


def test_csv_missing_column_non_utf8_and_too_large(owner, setup):
    p, acc = setup
    with pytest.raises(ImportRefused, match="no column “Amount”"):
        imports.preview_create(p, account=acc, upload=_csv("Date,Description,Value\n2024-01-01,x,1\n"), source="CSV", mapping=MAPPING)
    latin = SimpleUploadedFile("bank.csv", "Date,Description,Amount\n2024-01-01,Café,-1\n".encode("latin-1"))
    with pytest.raises(ImportRefused, match="not UTF-8"):
        imports.preview_create(p, account=acc, upload=latin, source="CSV", mapping=MAPPING)
    with override_settings(FINANCE_IMPORT_MAX_BYTES=1024), pytest.raises(ImportRefused, match="larger than"):
        imports.preview_create(p, account=acc, upload=_csv("Date,Description,Amount\n" + "2024-01-01,x,-1\n" * 200), source="CSV", mapping=MAPPING)
    assert _count(owner) == 0


def test_csv_preview_confirm_skips_duplicates_saves_mapping_and_undo(owner, setup):
    p, acc = setup
    expense(p, acc, "3.50", day=dt.date(2024, 1, 2), description="Coffee")
    text = "Date;Description;Debit;Credit\n02/01/2024;Coffee;3,50;\n03/01/2024;Salary;;1.000,00\n04/01/2024;Book;12,00;\n"
    mapping = {**MAPPING, "delimiter": ";", "date_format": "%d/%m/%Y", "decimal": ",", "amount": "", "debit": "Debit", "credit": "Credit"}
    preview = imports.preview_create(p, account=acc, upload=_csv(text), source="CSV", mapping=mapping)
    assert not preview.errors and preview.duplicates == 1
    assert _count(owner) == 1  # nothing until confirmed
    assert imports.import_confirm(preview.batch) == 2
    assert balance(acc) == D("-3.50") + D("1000") - D("12")
    with pytest.raises(FinanceError):
        imports.import_confirm(preview.batch)  # twice: refused
    with tenant(owner.id):
        assert ImportMapping.objects.get(account=acc).mapping["delimiter"] == ";"
    # the same file again: all three are duplicates now
    again = imports.preview_create(p, account=acc, upload=_csv(text), source="CSV", mapping=mapping)
    assert again.duplicates == 3 and imports.import_confirm(again.batch) == 0
    with pytest.raises(FinanceError, match="latest"):
        imports.import_undo(preview.batch)
    imports.import_undo(again.batch)
    imports.import_undo(preview.batch)
    assert balance(acc) == D("-3.50") and _count(owner) == 1


def test_ofx_import_and_fitid_duplicates(owner, setup):
    p, acc = setup
    preview = imports.preview_create(p, account=acc, upload=SimpleUploadedFile("s.ofx", OFX.encode()), source="OFX")
    assert not preview.errors and len(preview.rows) == 3
    assert imports.import_confirm(preview.batch) == 3
    assert balance(acc) == D("1447.91")
    again = imports.preview_create(p, account=acc, upload=SimpleUploadedFile("s.qfx", OFX.encode()), source="OFX")
    assert again.duplicates == 3
    with pytest.raises(ImportRefused, match="not an OFX"):
        imports.preview_create(p, account=acc, upload=SimpleUploadedFile("x.ofx", b"hello"), source="OFX")
    eur = account(p, "Euro", currency="EUR")
    with pytest.raises(ImportRefused, match="USD but the account is in EUR"):
        imports.preview_create(p, account=eur, upload=SimpleUploadedFile("s.ofx", OFX.encode()), source="OFX")


def test_import_pages_end_to_end(owner, setup):
    _p, acc = setup
    client = client_for(owner)
    text = "Date,Description,Amount\n2024-01-02,Coffee,-3.50\n2024-01-03,Tea,-2.00\n"
    data = {"account": acc.pk, "source": "CSV", **MAPPING, "file": _csv(text)}
    response = client.post(reverse("finance:import"), data)
    assert response.status_code == 302
    batch_url = response["Location"]
    page = client.get(batch_url).content.decode()
    assert "Coffee" in page and "2 new, 0 duplicates" in page
    with tenant(owner.id):
        batch = ImportBatch.objects.get(user=owner)
    assert client.post(reverse("finance:import_confirm", args=[batch.pk])).status_code == 302
    assert _count(owner) == 2
    bad = client.post(reverse("finance:import"), {**data, "file": _csv("Date,Description,Amount\nnope,Coffee,-3.50\n")})
    assert bad.status_code == 400 and "Line" in bad.content.decode() and "not a date" in bad.content.decode()
    other = client_for(make_user("nosy@example.com"))
    assert other.get(batch_url).status_code == 404
    assert other.post(reverse("finance:import_undo", args=[batch.pk])).status_code == 404
    assert client.post(reverse("finance:import_undo", args=[batch.pk])).status_code == 302
    assert _count(owner) == 0


def test_a_100_mb_upload_is_refused_unread(owner, setup):
    _p, acc = setup
    client = client_for(owner)
    response = client.generic("POST", reverse("finance:import"), b"x", content_type="multipart/form-data; boundary=zz",
                              CONTENT_LENGTH=str(100 * 1024 * 1024))
    assert response.status_code == 302
    assert "larger than" in str(list(client.get(reverse("finance:import")).context["messages"])[0])


def test_export_holds_every_table(owner, setup):
    p, acc = setup
    expense(p, acc, "3.50", description="Coffee")
    archive = zipfile.ZipFile(io.BytesIO(imports.export_zip(p)))
    assert {"accounts.csv", "transactions.csv", "budgets.csv", "debts.csv", "debt_payments.csv", "investments.csv",
            "recurring_payments.csv", "exchange_rates.csv"} <= set(archive.namelist())
    assert "Coffee,3.50,USD" in archive.read("transactions.csv").decode()


def test_rates_file(owner, setup):
    client = client_for(owner)
    good = SimpleUploadedFile("rates.csv", b"currency,date,rate\nEUR,2024-01-31,1.0850\nJPY,2024-01-31,0.0068\n")
    response = client.post(reverse("finance:rates_upload"), {"file": good}, follow=True)
    assert "2 rates saved." in response.content.decode()
    bad = SimpleUploadedFile("rates.csv", b"EUR,2024-02-01,1.1\nXYZ,2024-02-01,2\nEUR,nope,1\n")
    response = client.post(reverse("finance:rates_upload"), {"file": bad}, follow=True)
    html = response.content.decode()
    assert "Line 2: expected currency,date,rate" in html and "Line 3:" in html
    p = profile(owner)
    with tenant(owner.id):
        assert p.exchange_rates.count() == 2  # nothing of the bad file


def test_a_wrong_mapping_shows_the_files_columns_and_first_rows(owner, setup):
    _p, acc = setup
    client = client_for(owner)
    text = "Fecha,Concepto,Importe\n2024-01-02,Café <b>,-3.50\n"
    response = client.post(reverse("finance:import"), {"account": acc.pk, "source": "CSV", **MAPPING, "file": _csv(text)})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Its columns are: Fecha, Concepto, Importe." in html
    assert "<th scope=\"col\">Concepto</th>" in html and "Café &lt;b&gt;" in html
    assert _count(owner) == 0
