"""Deterministic fake Sage data: businesses, a user, ledger accounts, contacts."""

import hashlib
import random

COUNTRIES = {
    "GB": "United Kingdom",
    "IE": "Ireland",
    "US": "United States",
    "CA": "Canada",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "PT": "Portugal",
    "AE": "United Arab Emirates",
}
CURRENCIES = {
    "GB": "GBP",
    "IE": "EUR",
    "US": "USD",
    "CA": "CAD",
    "DE": "EUR",
    "ES": "EUR",
    "FR": "EUR",
    "PT": "EUR",
    "AE": "AED",
}
CURRENCY_NAMES = {
    "GBP": "Pound Sterling",
    "EUR": "Euro",
    "USD": "US Dollar",
    "CAD": "Canadian Dollar",
    "AED": "UAE Dirham",
}
BUSINESS_NAMES = [
    "Bright Ideas Ltd",
    "Harbour Bakery Ltd",
    "Northwind Traders",
    "Cobalt Joinery",
    "Greenleaf Florists",
    "Atlas Bicycles",
    "Juniper Studio",
    "Kestrel Logistics",
]
# A business's address in each country, in the order of COUNTRIES: street, city, postcode.
CITIES = [
    address.split(" | ")
    for address in (
        "1 High Street | London | EC1A 1BB",
        "12 Quay Road | Dublin | D02 X285",
        "400 Market Street | Boston | 02110",
        "55 King Street | Toronto | M5H 1J9",
        "Hauptstraße 7 | Berlin | 10115",
        "Calle Mayor 3 | Madrid | 28013",
        "8 rue de la Paix | Paris | 75002",
        "Rua Augusta 24 | Lisboa | 1100-053",
        "Sheikh Zayed Road 1 | Dubai | 00000",
    )
]
TIMESTAMP = "2024-01-15T09:30:00Z"
UPDATED = "2025-03-02T14:05:00Z"

# (nominal code, name, ledger account type): a small UK chart of accounts.
CHART = [
    ("0010", "Freehold Property", "FIXED_ASSETS"),
    ("0020", "Plant and Machinery", "FIXED_ASSETS"),
    ("0030", "Office Equipment", "FIXED_ASSETS"),
    ("0040", "Furniture and Fixtures", "FIXED_ASSETS"),
    ("0050", "Motor Vehicles", "FIXED_ASSETS"),
    ("1001", "Stock", "CURRENT_ASSETS"),
    ("1100", "Trade Debtors", "CURRENT_ASSETS"),
    ("1103", "Prepayments", "CURRENT_ASSETS"),
    ("1200", "Current Account", "BANK"),
    ("1210", "Savings Account", "BANK"),
    ("1230", "Petty Cash", "CASH_IN_HAND"),
    ("2100", "Trade Creditors", "CURRENT_LIABILITY"),
    ("2109", "Accruals", "CURRENT_LIABILITY"),
    ("2200", "Sales Tax Control Account", "CURRENT_LIABILITY"),
    ("2201", "Purchase Tax Control Account", "CURRENT_LIABILITY"),
    ("2210", "PAYE", "CURRENT_LIABILITY"),
    ("2211", "National Insurance", "CURRENT_LIABILITY"),
    ("2300", "Loans", "FUTURE_LIABILITY"),
    ("2310", "Hire Purchase", "FUTURE_LIABILITY"),
    ("3000", "Ordinary Shares", "EQUITY"),
    ("3200", "Profit and Loss Account", "EQUITY"),
    ("3260", "Dividends", "EQUITY"),
    ("4000", "Sales Type A", "SALES"),
    ("4010", "Sales Type B", "SALES"),
    ("4020", "Sales Type C", "SALES"),
    ("4900", "Other Income", "OTHER_INCOME"),
    ("4905", "Carriage on Sales", "OTHER_INCOME"),
    ("5000", "Cost of sales - goods", "DIRECT_EXPENSES"),
    ("5010", "Cost of sales - materials", "DIRECT_EXPENSES"),
    ("5100", "Carriage", "DIRECT_EXPENSES"),
    ("6000", "Subcontractor costs", "DIRECT_EXPENSES"),
    ("7000", "Gross Wages", "OVERHEADS"),
    ("7100", "Rent", "OVERHEADS"),
    ("7103", "General Rates", "OVERHEADS"),
    ("7200", "Electricity", "OVERHEADS"),
    ("7300", "Motor Fuel", "OVERHEADS"),
    ("7400", "Travelling", "OVERHEADS"),
    ("7500", "Printing and Stationery", "OVERHEADS"),
    ("7502", "Telephone", "OVERHEADS"),
    ("7600", "Legal Fees", "OVERHEADS"),
    ("7601", "Audit and Accountancy Fees", "OVERHEADS"),
    ("7900", "Bank Interest Paid", "OVERHEADS"),
    ("7901", "Bank Charges", "OVERHEADS"),
    ("8000", "Depreciation", "DEPRECIATION"),
    ("8100", "Bad Debt Write Off", "OVERHEADS"),
]
FIRST = ["Ada", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jamal"]
LAST = ["Archer", "Byrne", "Costa", "Dubois", "Evans", "Fischer", "García", "Hughes"]
TRADES = ["Plumbing", "Catering", "Print", "Design", "Builders", "Garage", "Cleaning", "Books"]


def make_id(*parts) -> str:
    """Return a stable 32-hex id, like Sage's, for the given parts."""
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:32]


def ref(kind: str, item_id: str, displayed_as: str) -> dict:
    return {"id": item_id, "displayed_as": displayed_as, "$path": f"/{kind}/{item_id}"}


def make_business(index: int, name: str | None = None, country: str | None = None) -> dict:
    """Return the business number `index` (0 is the lead business)."""
    name = name or BUSINESS_NAMES[index % len(BUSINESS_NAMES)]
    if index >= len(BUSINESS_NAMES) and name in BUSINESS_NAMES:
        name = f"{name} {index // len(BUSINESS_NAMES) + 1}"
    country = country or "GB"
    line_1, city, postal_code = CITIES[list(COUNTRIES).index(country)]
    business_id = make_id("business", index, name)
    return {
        "id": business_id,
        "name": name,
        "displayed_as": name,
        "$path": f"/businesses/{business_id}",
        "address_line_1": line_1,
        "address_line_2": "",
        "city": city,
        "postal_code": postal_code,
        "region": "",
        "country": {"id": country, "displayed_as": f"{COUNTRIES[country]} ({country})"},
        "is_demo": False,
        "subscriptions": [{"id": "ACCOUNTING", "displayed_as": "Sage Accounting"}],
        "created_at": TIMESTAMP,
        "updated_at": UPDATED,
    }


def make_user(email: str = "sandbox.user@example.com") -> dict:
    user_id = make_id("user", email)
    return {
        "id": user_id,
        "displayed_as": "Sam Sandbox",
        "$path": "/user",
        "first_name": "Sam",
        "last_name": "Sandbox",
        "initials": "SS",
        "email": email,
        "locale": "en-GB",
        "created_at": TIMESTAMP,
        "updated_at": UPDATED,
    }


def ledger_account(business: dict, entry: tuple[str, str, str]) -> dict:
    code, name, kind = entry
    item_id = make_id("ledger_account", business["id"], code)
    kind_name = kind.replace("_", " ").title()
    return {
        **ref("ledger_accounts", item_id, f"{name} ({code})"),
        "created_at": TIMESTAMP,
        "updated_at": UPDATED,
        "ledger_account_type": ref("ledger_account_types", kind, kind_name),
        "included_in_chart": True,
        "name": name,
        "display_name": name,
        "visible_scopes": ["journals", "reporting"],
        "nominal_code": int(code),
        "ledger_account_classification": None,
        "is_control_account": code in {"1100", "2100", "2200", "2201"},
        "visible_in_banking": kind in {"BANK", "CASH_IN_HAND"},
        "visible_in_expenses": kind in {"OVERHEADS", "DIRECT_EXPENSES"},
        "visible_in_journals": True,
        "visible_in_other_payments": False,
        "visible_in_other_receipts": False,
        "visible_in_reporting": True,
        "visible_in_sales": kind in {"SALES", "OTHER_INCOME"},
    }


def ledger_accounts(business: dict) -> list[dict]:
    return [ledger_account(business, entry) for entry in CHART]


def contact(business: dict, number: int) -> dict:
    """Contact number `number` (from 1) of a business: the same every time it is made."""
    rng = random.Random(f"{business['id']}/{number}")
    currency = CURRENCIES[business["country"]["id"]]
    supplier = number % 3 == 0
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    name = f"{person.split()[1]} {rng.choice(TRADES)}"
    reference = f"{'SUP' if supplier else 'CUS'}{number:03d}"
    kind = "VENDOR" if supplier else "CUSTOMER"
    item_id = make_id("contact", business["id"], number)
    balance = f"{rng.randint(0, 500000) / 100:.2f}"
    return {
        **ref("contacts", item_id, f"{name} ({reference})"),
        "created_at": TIMESTAMP,
        "updated_at": UPDATED,
        "contact_types": [ref("contact_types", kind, "Supplier" if supplier else "Customer")],
        "name": name,
        "contact_name": person,
        "reference": reference,
        "email": f"{reference.lower()}@example.com",
        "currency": ref("currencies", currency, f"{CURRENCY_NAMES[currency]} ({currency})"),
        "balance": balance,
        "credit_limit": "0.0",
        "credit_days": 30,
        "locale": "en",
        "deletable": False,
        "system": False,
    }


def contacts(business: dict, count: int = 25) -> list[dict]:
    return [contact(business, number) for number in range(1, count + 1)]


# The other synced types: a few records each, with the fields a list shows.
GENERIC = {
    "sales_invoices": ("SI", "invoice_number"),
    "purchase_invoices": ("PI", "vendor_reference"),
    "bank_accounts": ("BA", "nominal_code"),
    "contact_payments": ("CP", "reference"),
}


def generic_record(kind: str, business: dict, number: int) -> dict:
    """Record number `number` (from 1) of sales/purchase invoices, bank accounts, payments."""
    prefix, field = GENERIC[kind]
    rng = random.Random(f"{business['id']}/{kind}/{number}")
    item_id = make_id(kind, business["id"], number)
    label = f"{prefix}-{number:04d}"
    amount = f"{rng.randint(1000, 900000) / 100:.2f}"
    return {
        **ref(kind, item_id, label),
        "created_at": TIMESTAMP,
        "updated_at": UPDATED,
        field: label,
        "date": "2025-02-01",
        "total_amount": amount,
        "currency": ref("currencies", CURRENCIES[business["country"]["id"]], ""),
    }
