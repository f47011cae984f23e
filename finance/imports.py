"""Import of bank statements (CSV with a column mapping, OFX/QFX through ofxtools) and the export.

Nothing is written until the person confirms: the preview parses every row, reports each bad one
with its line and reason (a file with any bad row cannot be confirmed, so nothing is half-imported),
and flags duplicates — same date, amount and description on the account, or the same OFX FITID —
which the confirmation skips. The last import can be undone (its transactions go, balances follow).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial

from django.db import transaction
from django.utils.translation import gettext as _

from core.tenancy import tenant

from . import conf, tasks
from .errors import FinanceError, ImportRefused, MappingMismatch, MoneyError
from .models import (
    Budget,
    Debt,
    DebtPayment,
    ExchangeRate,
    FinancialAccount,
    FinancialProfile,
    ImportBatch,
    ImportMapping,
    Investment,
    RecurringPayment,
    Transaction,
    TransactionType,
)
from .money import check_amount, format_plain

DATE_FORMATS = {
    "%Y-%m-%d": "2024-01-31",
    "%d/%m/%Y": "31/01/2024",
    "%m/%d/%Y": "01/31/2024",
    "%d.%m.%Y": "31.01.2024",
    "%d-%m-%Y": "31-01-2024",
}
DECIMAL_FORMATS = {".": "1234.56", ",": "1234,56"}
PREVIEW_ROWS = 10


@dataclass
class ParsedRow:
    line: int
    date: dt.date
    amount: Decimal  # signed: negative is money out
    description: str
    category: str = ""
    external_id: str = ""
    duplicate: bool = False

    def as_json(self) -> dict:
        return {"line": self.line, "date": self.date.isoformat(), "amount": str(self.amount), "description": self.description,
                "category": self.category, "external_id": self.external_id, "duplicate": self.duplicate}


@dataclass
class Preview:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    batch: ImportBatch | None = None
    columns: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(row.duplicate for row in self.rows)


def read_upload(upload) -> bytes:
    """The file's bytes, refusing one over the limit without reading it whole."""
    limit = conf.import_max_bytes()
    if upload.size is not None and upload.size > limit:
        raise ImportRefused(_("The file is larger than %(mb)s MB. Split it and import the parts.") % {"mb": limit // (1024 * 1024)})
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ImportRefused(_("The file is larger than %(mb)s MB. Split it and import the parts.") % {"mb": limit // (1024 * 1024)})
    if not data.strip():
        raise ImportRefused(_("The file is empty."))
    return data


def decode_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")) from None
    if "\x00" in text:
        raise ImportRefused(_("The file is not a text file."))
    return text


def csv_columns(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return [c.strip() for c in next(reader, [])]


def _parse_decimal(raw: str, decimal_sep: str) -> Decimal:
    value = raw.strip().replace("\u00a0", "").replace(" ", "")
    group = "," if decimal_sep == "." else "."
    if decimal_sep == "." and "," in value and "." not in value and len(value.rsplit(",", 1)[1]) != 3:
        raise MoneyError(_("“%(value)s” uses a comma for decimals; this mapping expects a point.") % {"value": raw})
    value = value.replace(group, "").replace(decimal_sep, ".")
    negative = value.startswith("(") and value.endswith(")")
    value = value.strip("()")
    if not value or not all(ch.isdigit() or ch in ".-+" for ch in value):
        raise MoneyError(_("“%(value)s” is not an amount.") % {"value": raw[:40]})
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MoneyError(_("“%(value)s” is not an amount.") % {"value": raw[:40]}) from None
    return -amount if negative else amount


def parse_csv(text: str, *, account: FinancialAccount, mapping: dict) -> Preview:
    """``mapping``: delimiter, date_format, decimal, and the column names for date, description,
    amount (signed) or debit/credit, and optionally category."""
    delimiter = mapping.get("delimiter") or ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = [c.strip() for c in (reader.fieldnames or [])]
    preview = Preview(columns=columns)
    reader.fieldnames = columns
    wanted = [mapping.get("date"), mapping.get("description")]
    wanted += [mapping.get("amount")] if mapping.get("amount") else [mapping.get("debit"), mapping.get("credit")]
    if mapping.get("category"):
        wanted.append(mapping["category"])
    missing = [c for c in wanted if not c or c not in columns]
    if missing:
        names = ", ".join(f"“{c}”" for c in missing if c) or _("(none chosen)")
        sample = [[cell[:80] for cell in row] for _i, row in zip(range(PREVIEW_ROWS // 2), csv.reader(io.StringIO(text), delimiter=delimiter))][1:]
        raise MappingMismatch(_("The file has no column %(names)s. Its columns are: %(columns)s.") % {
            "names": names, "columns": ", ".join(columns) or "—"}, columns=columns, sample=sample)
    date_format = mapping.get("date_format") or "%Y-%m-%d"
    decimal_sep = mapping.get("decimal") or "."
    max_rows = conf.import_max_rows()
    for index, record in enumerate(reader):
        line = index + 2  # the header is line 1
        if index >= max_rows:
            preview.errors.append((line, _("The file has more than %(n)s rows; import it in parts.") % {"n": max_rows}))
            break
        if None in record:  # more cells than columns
            preview.errors.append((line, _("This row has more cells than the header.")))
            continue
        raw_date = (record.get(mapping["date"]) or "").strip()
        try:
            day = dt.datetime.strptime(raw_date, date_format).date()
        except ValueError:
            preview.errors.append((line, _("“%(value)s” is not a date like %(example)s.") % {
                "value": raw_date[:40], "example": DATE_FORMATS.get(date_format, date_format)}))
            continue
        try:
            if mapping.get("amount"):
                amount = _parse_decimal(record.get(mapping["amount"]) or "", decimal_sep)
            else:
                debit = (record.get(mapping["debit"]) or "").strip()
                credit = (record.get(mapping["credit"]) or "").strip()
                amount = (_parse_decimal(credit, decimal_sep) if credit else Decimal(0)) - (_parse_decimal(debit, decimal_sep) if debit else Decimal(0))
            if amount == 0:
                raise MoneyError(_("The amount is zero."))
            check_amount(abs(amount), currency=account.currency)
        except MoneyError as exc:
            preview.errors.append((line, str(exc.message)))
            continue
        description = " ".join((record.get(mapping["description"]) or "").split())[:500]
        if not description:
            preview.errors.append((line, _("The description is empty.")))
            continue
        category = (record.get(mapping["category"]) or "").strip()[:60] if mapping.get("category") else ""
        preview.rows.append(ParsedRow(line, day, amount, description, category))
    if not preview.rows and not preview.errors:
        raise ImportRefused(_("The file has a header but no rows."))
    return preview


def parse_ofx(data: bytes, *, account: FinancialAccount) -> Preview:
    """OFX 1.x (SGML) or 2.x (XML), and QFX (Quicken's OFX), through ofxtools."""
    from ofxtools.Parser import OFXTree  # noqa: PLC0415 - only an import needs it

    parser = OFXTree()
    try:
        parser.parse(io.BytesIO(data))
        ofx = parser.convert()
    except Exception:  # ofxtools raises many kinds for a file that is not OFX
        raise ImportRefused(_("This is not an OFX or QFX file we can read.")) from None
    preview = Preview()
    statements = list(getattr(ofx, "statements", []) or [])
    if not statements:
        raise ImportRefused(_("The file holds no bank or card statement."))
    line = 0
    for statement in statements:
        currency = (getattr(statement, "curdef", None) or account.currency).upper()
        if currency != account.currency:
            raise ImportRefused(_("The statement is in %(file)s but the account is in %(account)s.") % {
                "file": currency, "account": account.currency})
        for trn in statement.transactions:
            line += 1
            fitid = str(getattr(trn, "fitid", "") or "")[:255]
            try:
                amount = Decimal(trn.trnamt)
                if amount == 0:
                    raise MoneyError(_("The amount is zero."))
                check_amount(abs(amount), currency=account.currency)
            except (MoneyError, InvalidOperation, TypeError) as exc:
                preview.errors.append((line, str(getattr(exc, "message", _("The amount is not valid.")))))
                continue
            posted = trn.dtposted
            description = " ".join(" ".join(filter(None, [getattr(trn, "name", None), getattr(trn, "memo", None)])).split())[:500]
            preview.rows.append(ParsedRow(line, posted.date(), amount, description or fitid or "—", external_id=fitid))
    return preview


def _flag_duplicates(account: FinancialAccount, preview: Preview) -> None:
    if not preview.rows:
        return
    dates = [row.date for row in preview.rows]
    existing = Transaction.objects.filter(account=account, date__gte=min(dates), date__lte=max(dates)).values_list(
        "date", "amount", "description", "external_id", "type"
    )
    keys, fitids = set(), set()
    for day, amount, description, external_id, kind in existing:
        signed = -amount if kind == TransactionType.EXPENSE or (kind == TransactionType.TRANSFER) else amount
        keys.add((day, signed, description.casefold()))
        if external_id:
            fitids.add(external_id)
    seen_fitids: set = set()
    for row in preview.rows:
        if row.external_id:
            row.duplicate = row.external_id in fitids or row.external_id in seen_fitids
            seen_fitids.add(row.external_id)
        else:
            row.duplicate = (row.date, row.amount, row.description.casefold()) in keys


def preview_create(profile: FinancialProfile, *, account: FinancialAccount, upload, source: str, mapping: dict | None = None,
                   save_mapping: bool = True) -> Preview:
    """Parse the file; with no bad row, keep its rows in a PREVIEW batch to confirm."""
    data = read_upload(upload)
    if source == "CSV":
        preview = parse_csv(decode_text(data), account=account, mapping=mapping or {})
    else:
        preview = parse_ofx(data, account=account)
    with tenant(profile.user_id):
        _flag_duplicates(account, preview)
        if source == "CSV" and save_mapping and mapping:
            ImportMapping.objects.update_or_create(
                account=account, defaults={"financial_profile": profile, "user_id": profile.user_id, "mapping": mapping},
            )
        if not preview.errors and preview.rows:
            preview.batch = ImportBatch.objects.create(
                financial_profile=profile, user_id=profile.user_id, account=account, source=source,
                filename=(getattr(upload, "name", "") or "import")[:255], rows=[row.as_json() for row in preview.rows],
                duplicate_count=preview.duplicates,
            )
    return preview


def import_confirm(batch: ImportBatch) -> int:
    """Insert the rows that are not duplicates (checked again now), in one statement."""
    with tenant(batch.user_id), transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("account").get(pk=batch.pk)
        if batch.status != ImportBatch.Status.PREVIEW:
            raise FinanceError(_("This import was already confirmed or undone."))
        account = batch.account
        rows = [ParsedRow(r["line"], dt.date.fromisoformat(r["date"]), Decimal(r["amount"]), r["description"], r["category"], r["external_id"])
                for r in batch.rows]
        preview = Preview(rows=rows)
        _flag_duplicates(account, preview)
        new = [
            Transaction(
                financial_profile_id=batch.financial_profile_id, user_id=batch.user_id, account=account, currency=account.currency,
                type=TransactionType.INCOME if row.amount > 0 else TransactionType.EXPENSE, date=row.date, amount=abs(row.amount),
                description=row.description, category=row.category, external_id=row.external_id, import_batch=batch,
            )
            for row in rows if not row.duplicate
        ]
        Transaction.objects.bulk_create(new, batch_size=5000)
        batch.status, batch.imported_count, batch.duplicate_count = ImportBatch.Status.DONE, len(new), len(rows) - len(new)
        batch.rows = []
        batch.save(update_fields=["status", "imported_count", "duplicate_count", "rows"])
    transaction.on_commit(partial(tasks.check_budgets.delay, str(batch.user_id)), robust=True)
    return len(new)


def import_undo(batch: ImportBatch) -> int:
    """Only the person's latest import can be undone."""
    with tenant(batch.user_id), transaction.atomic():
        latest = ImportBatch.objects.select_for_update().filter(user_id=batch.user_id, status=ImportBatch.Status.DONE).order_by("-created_at").first()
        if latest is None or latest.pk != batch.pk:
            raise FinanceError(_("Only the latest import can be undone."))
        deleted, _by_model = Transaction.objects.filter(import_batch=latest).delete()
        latest.status = ImportBatch.Status.UNDONE
        latest.save(update_fields=["status"])
        return deleted


def import_discard(batch: ImportBatch) -> None:
    with tenant(batch.user_id):
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEW).delete()


# --- investment prices CSV --------------------------------------------------------------------------------


def parse_prices(text: str) -> list[tuple[str, Decimal, dt.date]]:
    """symbol,price[,date] per line (a header line is skipped); every bad line refuses the file."""
    out, errors = [], []
    for line, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record or not any(c.strip() for c in record):
            continue
        if line == 1 and record[0].strip().lower() == "symbol":
            continue
        try:
            symbol = record[0].strip().upper()
            price = Decimal(record[1].strip())
            if not price.is_finite() or price < 0:
                raise InvalidOperation
            day = dt.date.fromisoformat(record[2].strip()) if len(record) > 2 and record[2].strip() else dt.date.today()
            if not symbol:
                raise ValueError
        except (IndexError, InvalidOperation, ValueError):
            errors.append(_("Line %(line)s: expected symbol,price,date (2024-01-31).") % {"line": line})
            continue
        out.append((symbol, price, day))
    if errors:
        raise ImportRefused(" ".join(errors[:10]))
    return out


def parse_rates(text: str) -> list[tuple[str, dt.date, Decimal]]:
    """currency,date,rate per line (a header line is skipped); every bad line refuses the file."""
    from .money import CURRENCIES  # noqa: PLC0415

    out, errors = [], []
    for line, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record or not any(c.strip() for c in record):
            continue
        if line == 1 and record[0].strip().lower() == "currency":
            continue
        try:
            code = record[0].strip().upper()
            day = dt.date.fromisoformat(record[1].strip())
            rate = Decimal(record[2].strip())
            if code not in CURRENCIES or not rate.is_finite() or rate <= 0 or rate != rate.quantize(Decimal("0.0000000001")):
                raise ValueError
        except (IndexError, InvalidOperation, ValueError):
            errors.append(_("Line %(line)s: expected currency,date,rate (EUR,2024-01-31,1.0850).") % {"line": line})
            continue
        out.append((code, day, rate))
    if errors:
        raise ImportRefused(" ".join(errors[:10]))
    if not out:
        raise ImportRefused(_("The file has no rates."))
    return out


# --- export --------------------------------------------------------------------------------------------------


def _csv(rows, header) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def export_zip(profile: FinancialProfile) -> bytes:
    """Every finance table of the person as CSV files in one zip (amounts with '.' decimals)."""
    with tenant(profile.user_id):
        accounts = {a.pk: a for a in FinancialAccount.objects.filter(financial_profile=profile)}
        files = {
            "accounts.csv": _csv(
                ([a.pk, a.name, a.type, a.currency, format_plain(a.opening_balance, a.currency), format_plain(a.balance, a.currency),
                  a.credit_limit if a.credit_limit is not None else "", a.is_active] for a in accounts.values()),
                ["id", "name", "type", "currency", "opening_balance", "balance", "credit_limit", "active"]),
            "transactions.csv": _csv(
                ([t.pk, t.date.isoformat(), t.type, t.account_id or "", accounts[t.account_id].name if t.account_id in accounts else "",
                  t.description, format_plain(t.amount, t.currency), t.currency, t.category, t.subcategory, "|".join(t.tags),
                  t.from_account_id or "", t.to_account_id or "", t.transfer_id or "", t.exchange_rate or "", t.external_id]
                 for t in Transaction.objects.filter(financial_profile=profile).order_by("date", "created_at").iterator(chunk_size=2000)),
                ["id", "date", "type", "account_id", "account", "description", "amount", "currency", "category", "subcategory", "tags",
                 "from_account_id", "to_account_id", "transfer_id", "exchange_rate", "bank_id"]),
            "budgets.csv": _csv(
                ([b.name, b.category, b.amount, b.period, b.start_date, b.end_date or "", b.alert_threshold, b.rollover, b.is_active]
                 for b in Budget.objects.filter(financial_profile=profile)),
                ["name", "category", "amount", "period", "start_date", "end_date", "alert_threshold", "rollover", "active"]),
            "debts.csv": _csv(
                ([d.pk, d.name, d.type, d.currency, d.principal, d.balance, d.interest_rate, d.monthly_payment, d.start_date or "",
                  d.maturity_date or "", d.status, d.priority] for d in Debt.objects.filter(financial_profile=profile)),
                ["id", "name", "type", "currency", "principal", "balance", "interest_rate", "monthly_payment", "start_date", "maturity_date",
                 "status", "priority"]),
            "debt_payments.csv": _csv(
                ([p.debt_id, p.date, p.amount, p.principal_paid, p.interest_paid] for p in DebtPayment.objects.filter(debt__financial_profile=profile)),
                ["debt_id", "date", "amount", "principal_paid", "interest_paid"]),
            "investments.csv": _csv(
                ([i.name, i.type, i.symbol, i.currency, i.quantity, i.purchase_price, i.current_price or "", i.purchase_date or "",
                  i.price_date or "", i.returns if i.returns is not None else "", i.returns_percentage if i.returns_percentage is not None else ""]
                 for i in Investment.objects.filter(financial_profile=profile)),
                ["name", "type", "symbol", "currency", "quantity", "purchase_price", "current_price", "purchase_date", "price_date", "returns",
                 "returns_percentage"]),
            "recurring_payments.csv": _csv(
                ([r.name, r.amount, r.frequency, r.category, r.start_date, r.end_date or "", r.next_due_date, r.auto_debit, r.account_id or "",
                  r.is_active] for r in RecurringPayment.objects.filter(financial_profile=profile)),
                ["name", "amount", "frequency", "category", "start_date", "end_date", "next_due_date", "auto_debit", "account_id", "active"]),
            "exchange_rates.csv": _csv(
                ([r.currency, r.date, r.rate] for r in ExchangeRate.objects.filter(financial_profile=profile).order_by("currency", "date")),
                ["currency", "date", "rate"]),
        }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
