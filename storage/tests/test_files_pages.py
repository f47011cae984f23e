"""The file manager's pages (/files/) as the runtime role: folders and their paths, files moved,
renamed, previewed and downloaded (ranges too), every URL a 404 for another user, one query count
for 10 and 500 files."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.tenancy import tenant
from storage import services
from storage.models import FileAccessLog, StorageFile, StorageFolder

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def store(user, data: bytes, name: str, folder=None, mime_type: str = "text/plain") -> StorageFile:
    return services.file_store(user=user, content=data, name=name, folder=folder, mime_type=mime_type)


def folders(user) -> dict[str, str]:
    with tenant(user.id):
        return {f.name: f.path for f in StorageFolder.objects.filter(user=user)}


def logs(user, file) -> list[str]:
    with tenant(user.id):
        return list(FileAccessLog.objects.filter(file=file).order_by("timestamp").values_list("action", flat=True))


def test_the_files_page_lists_folders_and_files_with_breadcrumbs(owner, owner_client):
    top = services.folder_create(user=owner, name="Trips")
    inner = services.folder_create(user=owner, name="2026", parent=top)
    store(owner, b"tickets", "tickets.txt", folder=inner)
    page = owner_client.get(reverse("storage:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Trips" in html and "tickets.txt" not in html and 'href="/files/"' in html
    page = owner_client.get(reverse("storage:folder", args=[inner.pk]))
    html = page.content.decode()
    assert "tickets.txt" in html
    crumbs = html[html.index('class="files-breadcrumbs"'):html.index("</nav>", html.index('class="files-breadcrumbs"'))]
    assert crumbs.index(">Files<") < crumbs.index(">Trips<") < crumbs.index(">2026<")


def test_renaming_and_moving_a_folder_repaths_every_descendant(owner, owner_client):
    a = services.folder_create(user=owner, name="a")
    b = services.folder_create(user=owner, name="b", parent=a)
    c = services.folder_create(user=owner, name="c", parent=b)
    services.folder_create(user=owner, name="d", parent=c)
    other_top = services.folder_create(user=owner, name="ab")  # shares a prefix, must not move
    services.folder_create(user=owner, name="x", parent=other_top)
    response = owner_client.post(reverse("storage:folder_rename", args=[b.pk]), {"name": "B2"})
    assert response.status_code == 302
    assert folders(owner) == {"a": "a", "B2": "a/B2", "c": "a/B2/c", "d": "a/B2/c/d", "ab": "ab", "x": "ab/x"}
    response = owner_client.post(reverse("storage:folder_move", args=[b.pk]), {"target": str(other_top.pk)})
    assert response.status_code == 302
    assert folders(owner) == {"a": "a", "B2": "ab/B2", "c": "ab/B2/c", "d": "ab/B2/c/d", "ab": "ab", "x": "ab/x"}
    with tenant(owner.id):
        assert StorageFolder.objects.get(pk=b.pk).parent_id == other_top.pk
    response = owner_client.post(reverse("storage:folder_move", args=[b.pk]), {"target": ""})
    assert folders(owner)["d"] == "B2/c/d"


def test_a_folder_moved_into_its_own_child_is_refused_and_nothing_changes(owner, owner_client):
    a = services.folder_create(user=owner, name="a")
    b = services.folder_create(user=owner, name="b", parent=a)
    before = folders(owner)
    response = owner_client.post(reverse("storage:folder_move", args=[a.pk]), {"target": str(b.pk)})
    assert response.status_code == 400
    assert "A folder cannot be moved into itself or into one of its own folders." in response.content.decode()
    response = owner_client.post(reverse("storage:folder_move", args=[a.pk]), {"target": str(a.pk)})
    assert response.status_code == 400
    assert folders(owner) == before


def test_bad_folder_names_and_duplicates_are_refused_with_a_message(owner, owner_client):
    services.folder_create(user=owner, name="Taxes")
    for name, message in [
        ("Taxes", "There is already a folder called “Taxes” here."),
        ("a/b", "A name cannot contain “/” or “\\”."),
        ("..", "“.” and “..” cannot be used as names."),
        ("CON", "This name is reserved by some systems"),
        ("x" * 1000, "This name is too long: at most 255 bytes."),
        ("bad\x00name", "A name cannot contain control characters."),
        ("   ", "Enter a name."),
    ]:
        response = owner_client.post(reverse("storage:folder_create"), {"name": name})
        assert response.status_code == 400, name
        assert message in response.content.decode(), name
    assert list(folders(owner)) == ["Taxes"]


def test_rename_move_and_details_of_a_file(owner, owner_client):
    folder = services.folder_create(user=owner, name="Work")
    file = store(owner, b"report body", "report.txt")
    store(owner, b"other", "taken.txt", folder=folder)
    response = owner_client.post(reverse("storage:file_rename", args=[file.pk]), {"name": "taken.txt"})
    assert response.status_code == 302
    response = owner_client.post(reverse("storage:file_move", args=[file.pk]), {"target": str(folder.pk)})
    assert response.status_code == 400
    assert "There is already a file called “taken.txt” in that folder." in response.content.decode()
    owner_client.post(reverse("storage:file_rename", args=[file.pk]), {"name": "final.txt"})
    response = owner_client.post(reverse("storage:file_move", args=[file.pk]), {"target": str(folder.pk)})
    assert response.status_code == 302
    past = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = owner_client.post(reverse("storage:file_details", args=[file.pk]),
                                 {"usage_context": "FINANCE", "access_level": "PRIVATE", "expires_at": past})
    assert response.status_code == 400 and "The expiry must be in the future." in response.content.decode()
    future = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = owner_client.post(reverse("storage:file_details", args=[file.pk]),
                                 {"usage_context": "FINANCE", "access_level": "SHARED", "expires_at": future})
    assert response.status_code == 302
    with tenant(owner.id):
        row = StorageFile.objects.get(pk=file.pk)
    assert (row.filename, row.folder_id, row.usage_context, row.access_level) == ("final.txt", folder.pk, "FINANCE", "SHARED")
    assert row.expires_at is not None
    assert logs(owner, file) == ["RENAME", "RENAME", "MOVE"]
    response = owner_client.post(reverse("storage:file_details", args=[file.pk]),
                                 {"usage_context": "NOPE", "access_level": "PRIVATE"})
    assert response.status_code == 400


def test_expired_files_are_hidden_then_purged_with_their_blob(owner, owner_client, media, django_capture_on_commit_callbacks):
    file = store(owner, b"short-lived", "soon.txt")
    with tenant(owner.id):
        StorageFile.objects.filter(pk=file.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert owner_client.get(reverse("storage:file", args=[file.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        from storage.tasks import purge_expired_files

        assert purge_expired_files() == 1
    with tenant(owner.id):
        assert not StorageFile.objects.filter(pk=file.pk).exists()
    assert not (media / file.storage_path).exists()


def test_download_streams_with_safe_headers_and_logs(owner, owner_client):
    file = store(owner, "naïve <script>.html".encode(), "naïve résumé.html", mime_type="text/html")
    response = owner_client.get(reverse("storage:download", args=[file.pk]))
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == "naïve <script>.html".encode()
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"na_ve r_sum_.html\"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.html")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert logs(owner, file) == ["DOWNLOAD"]
    # HTML asked inline is still an attachment: only images and PDFs are shown by the browser.
    response = owner_client.get(reverse("storage:preview", args=[file.pk]))
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_image_is_previewed_inline_and_text_shown_escaped(owner, owner_client):
    image = store(owner, PNG, "dot.png", mime_type="image/png")
    response = owner_client.get(reverse("storage:preview", args=[image.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PNG
    page = owner_client.get(reverse("storage:file", args=[image.pk])).content.decode()
    assert f'src="{reverse("storage:preview", args=[image.pk])}"' in page
    text = store(owner, b"<b>bold</b> & more\n", "notes.txt")
    page = owner_client.get(reverse("storage:file", args=[text.pk])).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page and "<b>bold</b>" not in page


@pytest.mark.parametrize("header, status, body, content_range", [
    ("bytes=0-3", 206, b"0123", "bytes 0-3/10"),
    ("bytes=4-", 206, b"456789", "bytes 4-9/10"),
    ("bytes=-3", 206, b"789", "bytes 7-9/10"),
    ("bytes=8-100", 206, b"89", "bytes 8-9/10"),
    ("bytes=10-12", 416, b"", "bytes */10"),
    ("bytes=0-1,4-5", 200, b"0123456789", None),  # several ranges: the whole file
    ("items=0-1", 200, b"0123456789", None),
])
def test_range_requests(owner, owner_client, header, status, body, content_range):
    file = store(owner, b"0123456789", "digits.txt")
    response = owner_client.get(reverse("storage:download", args=[file.pk]), HTTP_RANGE=header)
    assert response.status_code == status
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content == body
    assert response.get("Content-Range") == content_range
    assert response["Accept-Ranges"] == "bytes"
    if status == 206:
        assert response["Content-Length"] == str(len(body))


def test_a_range_for_another_version_sends_the_whole_file(owner, owner_client):
    file = store(owner, b"0123456789", "digits.txt")
    response = owner_client.get(reverse("storage:download", args=[file.pk]), HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE='"old"')
    assert response.status_code == 200


def _urls(file, folder) -> list[tuple[str, str]]:
    return [
        ("get", reverse("storage:folder", args=[folder.pk])),
        ("post", reverse("storage:folder_rename", args=[folder.pk])),
        ("post", reverse("storage:folder_move", args=[folder.pk])),
        ("get", reverse("storage:file", args=[file.pk])),
        ("get", reverse("storage:download", args=[file.pk])),
        ("get", reverse("storage:preview", args=[file.pk])),
        ("post", reverse("storage:file_rename", args=[file.pk])),
        ("post", reverse("storage:file_move", args=[file.pk])),
        ("post", reverse("storage:file_details", args=[file.pk])),
    ]


def test_every_file_and_folder_url_answers_another_user_with_404(owner, other_client, owner_client):
    folder = services.folder_create(user=owner, name="Private")
    file = store(owner, b"secret", "secret.txt", folder=folder)
    for method, url in _urls(file, folder):
        data = {"name": "stolen", "target": "", "usage_context": "GENERAL", "access_level": "PUBLIC"} if method == "post" else None
        assert getattr(other_client, method)(url, data).status_code == 404, url
    # their folder as the parent or the target of mine is a 404 too, and nothing was written
    mine = services.folder_create(user=other_client_user(other_client), name="Mine")
    assert owner_client.post(reverse("storage:folder_create"), {"name": "in", "parent": str(mine.pk)}).status_code == 404
    assert owner_client.post(reverse("storage:file_move", args=[file.pk]), {"target": str(mine.pk)}).status_code in (400, 404)
    assert owner_client.get(reverse("storage:file", args=[uuid.uuid4()])).status_code == 404
    assert folders(owner) == {"Private": "Private"} and logs(owner, file) == []
    with tenant(owner.id):
        row = StorageFile.objects.get(pk=file.pk)
    assert (row.filename, row.folder_id, row.access_level) == ("secret.txt", folder.pk, "PRIVATE")


def other_client_user(client):
    from accounts.models import User

    return User.objects.get(pk=client.session["_auth_user_id"])


def _list_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_page_runs_the_same_number_of_queries_for_10_and_500_files(owner, owner_client):
    folder = services.folder_create(user=owner, name="Big")
    url = reverse("storage:folder", args=[folder.pk])

    def add(count, start):
        with tenant(owner.id):
            StorageFile.objects.bulk_create([
                StorageFile(user=owner, folder=folder, filename=f"f{n:04}.txt", original_name=f"f{n:04}.txt",
                            storage_path=f"general/{owner.id}/{n}", size=1, checksum=f"{n:064x}")
                for n in range(start, start + count)
            ])

    add(10, 0)
    few = _list_queries(owner_client, url)
    few_top, few_search = _list_queries(owner_client, reverse("storage:list")), _list_queries(owner_client, url + "?q=f0")
    add(490, 10)
    many = _list_queries(owner_client, url)
    assert few == many
    assert _list_queries(owner_client, reverse("storage:list")) == few_top
    assert _list_queries(owner_client, url + "?q=f0") == few_search  # each file's folder comes with it
    page = owner_client.get(url + "?sort=-name&page=2").content.decode()
    assert "500 files" in page and "Page 2 of 10" in page and "f0449.txt" in page and "f0499.txt" not in page


def test_the_files_page_takes_up_new_tier_limits_and_writes_nothing_when_they_match(owner, owner_client, settings):
    from storage.models import StorageQuota

    settings.STORAGE_TIER_LIMITS = {"FREE": {"max_storage": 10_000, "max_files": 7}}
    html = owner_client.get(reverse("storage:list")).content.decode()
    assert "0\xa0bytes of 9.8\xa0KB" in html and "0 of 7 files" in html
    with tenant(owner.id):
        assert StorageQuota.objects.values_list("max_storage", "max_files").get(user=owner) == (10_000, 7)
    with CaptureQueriesContext(connection) as queries:
        assert owner_client.get(reverse("storage:list")).status_code == 200
    quota_queries = [q["sql"] for q in queries if "storage_quotas" in q["sql"]]
    assert len(quota_queries) == 1 and quota_queries[0].startswith("SELECT")  # one read, no UPDATE


def test_search_finds_names_in_every_folder(owner, owner_client):
    folder = services.folder_create(user=owner, name="Deep")
    store(owner, b"a", "invoice-march.pdf", folder=folder, mime_type="application/pdf")
    store(owner, b"b", "holiday.jpg", mime_type="image/jpeg")
    html = owner_client.get(reverse("storage:list") + "?q=INVOICE").content.decode()
    assert "invoice-march.pdf" in html and "holiday.jpg" not in html
    assert 'invoice-march.pdf</a> <small class="muted">Deep</small>' in html  # where it is
    html = owner_client.get(reverse("storage:list") + "?q=%00bad").content.decode()
    assert "No file name matches this search." in html


def test_the_list_rows_show_each_files_name_type_size_date_and_download(owner, owner_client):
    """The rows are made in Python (storage/rows.py): what each cell shows, escaped."""
    from django.utils import timezone
    from django.utils.formats import date_format

    file = store(owner, b"x" * 2048, 'Tom & "Jerry" <b>.txt', mime_type="text/plain")
    with tenant(owner.id):
        StorageFile.objects.filter(pk=file.pk).update(is_processed=False)
        file.refresh_from_db()
    html = owner_client.get(reverse("storage:list")).content.decode()
    row = html[html.index(f'<tr data-file-id="{file.pk}">'):]
    row = row[:row.index("</tr>")]
    name = "Tom &amp; &quot;Jerry&quot; &lt;b&gt;.txt"
    assert f'<a href="{reverse("storage:file", args=[file.pk])}">{name}</a>' in row and "<b>" not in row
    assert 'title="This file was stored without a virus scan.">Not scanned</span>' in row
    assert ">text/plain<" in row and ">2.0\xa0KB<" in row
    created = timezone.localtime(file.created_at)
    assert f'<time datetime="{created.isoformat()}">{date_format(created, "SHORT_DATE_FORMAT")}</time>' in row
    assert f'href="{reverse("storage:download", args=[file.pk])}">Download<span class="visually-hidden"> {name}</span>' in row
    html = owner_client.get(reverse("storage:list"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'data-label="Nombre"' in html and ">Descargar<" in html and ">Sin revisar<" in html


def test_the_sidebar_links_the_files_page(owner_client):
    html = owner_client.get(reverse("storage:list")).content.decode()
    assert '<a href="/files/" aria-current="page">Files</a>' in html


def test_a_pdf_opens_inline_without_script_and_a_resumed_download_is_logged_once(owner, owner_client):
    pdf = store(owner, b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", "scan.pdf", mime_type="application/pdf")
    response = owner_client.get(reverse("storage:preview", args=[pdf.pk]))
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("inline;")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "script-src" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    owner_client.get(reverse("storage:download", args=[pdf.pk]), HTTP_RANGE="bytes=0-9")
    owner_client.get(reverse("storage:download", args=[pdf.pk]), HTTP_RANGE="bytes=10-")  # the rest, resumed
    assert logs(owner, pdf) == [logs(owner, pdf)[0], "DOWNLOAD"] and logs(owner, pdf)[0] in ("PREVIEW", "VIEW")


def test_renaming_a_folder_to_a_siblings_name_is_refused(owner, owner_client):
    services.folder_create(user=owner, name="One")
    two = services.folder_create(user=owner, name="Two")
    response = owner_client.post(reverse("storage:folder_rename", args=[two.pk]), {"name": "One"})
    assert response.status_code == 400
    assert "There is already a folder called “One” here." in response.content.decode()
    assert folders(owner) == {"One": "One", "Two": "Two"}


def test_the_services_cannot_reach_another_users_folder_under_rls(owner, other):
    from django.db import IntegrityError

    mine = services.folder_create(user=owner, name="Mine")
    file = store(owner, b"mine", "mine.txt")
    theirs = services.folder_create(user=other, name="Theirs")
    with pytest.raises(StorageFolder.DoesNotExist):
        services.folder_move(folder=mine, parent=theirs)
    with pytest.raises(IntegrityError):
        services.file_move(file=file, folder=theirs)
    assert folders(owner) == {"Mine": "Mine"} and folders(other) == {"Theirs": "Theirs"}
    with tenant(owner.id):
        assert StorageFile.objects.get(pk=file.pk).folder_id is None


def test_many_folders_are_paged_and_sorted(owner, owner_client):
    with tenant(owner.id):
        StorageFolder.objects.bulk_create([StorageFolder(user=owner, name=f"d{n:03}", path=f"d{n:03}") for n in range(130)])
    html = owner_client.get(reverse("storage:list")).content.decode()
    assert "Folders: page 1 of 3" in html and ">d000<" in html and ">d060<" not in html
    html = owner_client.get(reverse("storage:list") + "?folders_page=3&sort=-name").content.decode()
    assert ">d000<" in html and ">d129<" not in html
