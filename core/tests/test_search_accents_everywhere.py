"""Every list with a search box finds a name whatever its accents and case ("cafe" finds
"Café", "CAFETERIA" finds "cafetería"), and still leaves the rest out (core.search)."""

import pytest
from django.urls import reverse

from core.tenancy import tenant
from testutils import factories
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db

ACCENTED = "Cafetería Ñandú"
OTHER = "Hardware store"
SEARCHES = ("cafeteria", "CAFETERÍA", "nandu", "ñandú")


@pytest.fixture
def owner():
    return make_user("acentos@example.com")


def _rename(row, **fields):
    type(row).objects.filter(pk=row.pk).update(**fields)


def _pages(client, path, searches=SEARCHES, parameter="q"):
    return {search: client.get(path, {parameter: search}).content.decode() for search in searches}


def _assert_found(pages, expected=ACCENTED, other=OTHER):
    for search, html in pages.items():
        assert expected in html, search
        assert other not in html, search


def test_documents(owner):
    with tenant(owner.id):
        for title in (ACCENTED, OTHER):
            _rename(factories.rag_document(owner), title=title)
    _assert_found(_pages(client_for(owner), reverse("rag:list")))


def test_files_and_folders(owner):
    with tenant(owner.id):
        receipts = factories.folder(owner, name="Recibos año")
        _rename(factories.storage_file(owner, folder_=receipts), filename="cafetería-ñandú.txt", original_name="cafetería-ñandú.txt")
        _rename(factories.storage_file(owner), filename="hardware.txt", original_name="hardware.txt")
    client = client_for(owner)
    _assert_found(_pages(client, reverse("storage:list")), expected="cafetería-ñandú.txt", other="hardware.txt")
    for search, html in _pages(client, reverse("storage:list"), ("recibos ano", "AÑO")).items():
        assert "Recibos año" in html, search


def test_transactions_by_description_category_and_tag(owner):
    with tenant(owner.id):
        account = factories.financial_account(owner)
        _rename(factories.transaction(owner, account=account), description=ACCENTED)
        _rename(factories.transaction(owner, account=account, category="Educación", tags=["Viáticos"]), description=OTHER)
    client = client_for(owner)
    _assert_found(_pages(client, reverse("finance:transactions")))
    for search in ("educacion", "VIATICOS"):
        html = client.get(reverse("finance:transactions"), {"q": search}).content.decode()
        assert OTHER in html and ACCENTED not in html, search


def test_a_transaction_search_never_matches_across_two_fields(owner):
    # Description, category and tags are folded and compared as one text, with a separator no
    # search can hold between them.
    with tenant(owner.id):
        _rename(factories.transaction(owner, account=factories.financial_account(owner), category="Food"),
                description="Corner shop")
    client = client_for(owner)
    for search in ("shopfood", "shop food", "shop\x01food"):
        assert "Corner shop" not in client.get(reverse("finance:transactions"), {"q": search}).content.decode(), search
    assert "Corner shop" in client.get(reverse("finance:transactions"), {"q": "FOOD"}).content.decode()


def test_artifacts_by_a_part_of_the_name(owner):
    with tenant(owner.id):
        conversation = factories.conversation(owner)
        _rename(factories.artifact(owner, conv=conversation), name="Menú de la cafetería")
        _rename(factories.artifact(owner, conv=conversation), name=OTHER)
    pages = _pages(client_for(owner), reverse("artifacts:list"), ("menu", "CAFETER"))
    _assert_found(pages, expected="Menú de la cafetería")


# Lists whose rows are found by one title: (factory, page, its search parameter, title, searches).
TITLED = [
    pytest.param(factories.support_ticket, "support:list", "q", "No puedo iniciar sesión", ("sesion", "SESIÓN"), id="tickets"),
    pytest.param(factories.conversation, "chats:sidebar", "sq", "Plan de acción", ("accion", "ACCIÓN"), id="sidebar"),
]


@pytest.mark.parametrize(("factory", "page", "parameter", "title", "searches"), TITLED)
def test_lists_found_by_their_title(owner, factory, page, parameter, title, searches):
    with tenant(owner.id):
        _rename(factory(owner), title=title)
        _rename(factory(owner), title=OTHER)
    _assert_found(_pages(client_for(owner), reverse(page), searches, parameter=parameter), expected=title)


def test_a_wildcard_in_the_search_is_a_plain_character(owner):
    with tenant(owner.id):
        for title in ("100% cafetería", "1000 cafeterías"):
            _rename(factories.rag_document(owner), title=title)
    html = client_for(owner).get(reverse("rag:list"), {"q": "100%"}).content.decode()
    assert "100% cafetería" in html and "1000 cafeterías" not in html
