"""HTML tables read as rows and columns (`maild.parsers.tables`) and the identifiers in them."""

from __future__ import annotations

from email.message import EmailMessage

from maild.parsers import identifiers, mime, tables


def _html_mail(markup: str, plain: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Seller Center <sellercenter-noreply@walmart.com>"
    if plain is not None:
        message.set_content(plain)
        message.add_alternative(markup, subtype="html")
    else:
        message.set_content(markup, subtype="html")
    return message


HEADER_ROW = """<p>These items were unpublished:</p>
<table><tr><th>Item ID</th><th>SKU</th><th>Reason</th></tr>
<tr><td>412345678</td><td>BX-01</td><td>Missing warning</td></tr>
<tr><td>412345679</td><td></td><td>Missing warning</td></tr></table>"""

LABEL_BESIDE_VALUE = """<table>
<tr><td>Item ID</td><td><b>512345678</b></td></tr>
<tr><td>Seller SKU:</td><td>KV-77</td></tr>
<tr><td colspan="2"><table><tr><td>Complaint ID</td><td>CMP-2026-0042</td></tr></table></td></tr>
</table>"""


def test_header_row_labels_each_column() -> None:
    """GIVEN a table whose first row holds the labels and the rows below the values
    WHEN read
    THEN every value gets the label of its column, empty cells give nothing."""
    found = tables.pairs(tables.read_tables(HEADER_ROW))
    assert ("Item ID", "412345678") in found and ("SKU", "BX-01") in found
    assert ("Item ID", "412345679") in found
    assert ("SKU", "") not in found


def test_header_row_below_a_title_row() -> None:
    """GIVEN a table whose first row is a title spanning the columns, then the labels, then
    values wrapped in links
    WHEN read
    THEN the values get the labels of the second row."""
    markup = (
        '<table><tr><td colspan="2"><b>Affected items</b></td></tr>'
        "<tr><td><b>Item ID</b></td><td><b>SKU</b></td></tr>"
        '<tr><td><a href="https://example.invalid/i">612345678</a></td><td>TT-9</td></tr></table>'
    )
    assert tables.pairs(tables.read_tables(markup)) == [("Item ID", "612345678"), ("SKU", "TT-9")]


def test_label_cell_beside_value_cell_and_nested_table() -> None:
    """GIVEN label cells beside value cells, one of them in a nested table
    WHEN read
    THEN each value gets the label before it (trailing colon dropped)."""
    found = tables.pairs(tables.read_tables(LABEL_BESIDE_VALUE))
    assert ("Item ID", "512345678") in found
    assert ("Seller SKU", "KV-77") in found
    assert ("Complaint ID", "CMP-2026-0042") in found


def test_identifiers_come_from_table_columns() -> None:
    """GIVEN a Walmart notice listing items in a header-row table (HTML only)
    WHEN its identifiers are extracted from its flattened text and its tables
    THEN each item ID and SKU is found, which the flattened text alone loses."""
    message = _html_mail(HEADER_ROW)
    text = mime.body_text(message)
    alone = identifiers.extract(text, "walmart")
    assert alone["item_id"] == [] and alone["sku"] == []
    found = identifiers.extract(text, "walmart", tables.labelled_cells(message))
    assert found["item_id"] == ["412345678", "412345679"]
    assert found["sku"] == ["BX-01"]


def test_complaint_id_beside_asin_keeps_its_own_column() -> None:
    """GIVEN a table with an ASIN column next to a Complaint ID column
    WHEN the flattened line "ASIN Complaint ID" precedes "B0... 88..."
    THEN the ASIN stays an ASIN (not a complaint ID) and the complaint number is found."""
    markup = (
        "<table><tr><th>ASIN</th><th>Complaint ID</th></tr>"
        "<tr><td>B0TESTAB12</td><td>8834120099</td></tr></table>"
    )
    text = "ASIN Complaint ID\nB0TESTAB12 8834120099"
    alone = identifiers.extract(text, "amazon")
    assert alone["complaint_id"] == ["B0TESTAB12"]
    found = identifiers.extract(text, "amazon", tables.labelled_cells(_html_mail(markup)))
    assert found["asin"] == ["B0TESTAB12"]
    assert found["complaint_id"] == ["8834120099"]


def test_layout_tables_and_plain_mail_give_nothing() -> None:
    """GIVEN a one-column layout table and a mail without HTML
    WHEN read
    THEN no label/value pair comes out."""
    assert tables.pairs(tables.read_tables("<table><tr><td>Hello</td></tr></table>")) == []
    plain = EmailMessage()
    plain.set_content("Item ID 412345678")
    assert tables.labelled_cells(plain) == []
