"""Share links (issue 09 item 5): tokens, passwords and their throttle, expiry, download limits,
view/download rights, files in the trash or quarantined, revoking, folder links, the owner's pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.crypto import token_digest
from core.tenancy import current_context, tenant
from storage import services, shares, trash
from storage.models import FileAccessLog, FileShare, ShareType, StorageFile
from testutils import factories

pytestmark = pytest.mark.django_db

CONTENT = b"The quarterly figures, shared.\n"


def _file(owner, content=CONTENT, name="report.txt", mime="text/plain", folder=None):
    return services.file_store(user=owner, content=content, name=name, mime_type=mime, folder=folder)


def _link(owner, *, file=None, folder=None, **options):
    created = shares.share_create(user=owner, file=file, folder=folder, **options)
    return created.share, created.token


def _body(response) -> bytes:
    """The whole body; the test client closes a streamed response once its last piece is read."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def _reload(share) -> FileShare:
    with tenant(share.user_id):
        return FileShare.objects.get(pk=share.pk)


def _logs(owner, **filters):
    with tenant(owner.id):
        return list(FileAccessLog.objects.filter(**filters).order_by("timestamp").values_list("action", flat=True))


@pytest.fixture
def visitor():
    return Client()


# --- tokens ------------------------------------------------------------------------------------------


def test_the_token_is_random_long_and_only_its_digest_is_stored(owner):
    file = _file(owner)
    share, token = _link(owner, file=file)
    other_share, other_token = _link(owner, file=file)
    assert len(token) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # 32 bytes = 256 bits
    assert token != other_token
    assert share.share_token == token_digest(token) and token not in share.share_token
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM file_shares WHERE share_token = %s", [token])
        assert cursor.fetchone()[0] == 0


def test_finding_a_link_leaves_no_bypass_behind(owner):
    share, token = _link(owner, file=_file(owner))
    with tenant(None):
        found = shares.share_lookup(token)
        assert found.pk == share.pk
        assert current_context() == ("", "")
        assert shares.share_lookup("x" * 43) is None
        assert shares.share_lookup("../../etc/passwd") is None
        assert current_context() == ("", "")


# --- the public page and downloads -------------------------------------------------------------------


def test_a_visitor_opens_the_link_sees_the_file_and_downloads_it(owner, visitor):
    file = _file(owner)
    share, token = _link(owner, file=file)
    page = visitor.get(f"/s/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "report.txt" in html and "The quarterly figures" in html  # a text file is shown as text
    assert '<meta name="robots" content="noindex' in html
    assert page["X-Robots-Tag"].startswith("noindex") and page["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page["Cache-Control"]
    download = visitor.get(f"/s/{token}/download/")
    assert download.status_code == 200
    assert download["Referrer-Policy"] == "no-referrer" and download["X-Robots-Tag"].startswith("noindex")
    assert download["Content-Disposition"].startswith("attachment;") and "filename*=UTF-8''report.txt" in download["Content-Disposition"]
    assert _body(download) == CONTENT
    assert _reload(share).download_count == 1
    assert _logs(owner, share=share) == ["SHARE", "VIEW", "DOWNLOAD"]
    with tenant(owner.id):
        logged = FileAccessLog.objects.filter(share=share, action="DOWNLOAD").get()
    assert logged.user_id is None and logged.ip_address == "127.0.0.1" and logged.file_id == file.pk


def test_a_download_that_does_not_finish_is_not_counted(owner, visitor):
    share, token = _link(owner, file=_file(owner, content=b"x" * 300_000, name="big.bin", mime="application/octet-stream"),
                         max_downloads=1)
    response = visitor.get(f"/s/{token}/download/")
    assert response.status_code == 200
    pieces = response._iterator  # the test client's wrapper, which closes the response as a WSGI server does
    first = next(pieces)
    assert 0 < len(first) < 300_000
    assert _reload(share).download_count == 1  # reserved while it is sent
    pieces.close()  # the client went away before the last byte: the server closes the response
    assert _reload(share).download_count == 0
    assert _body(visitor.get(f"/s/{token}/download/")) == b"x" * 300_000
    assert _reload(share).download_count == 1


def test_the_download_limit_refuses_past_it_and_each_link_counts_alone(owner, visitor):
    file = _file(owner)
    share, token = _link(owner, file=file, max_downloads=2)
    second, second_token = _link(owner, file=file, max_downloads=1)
    for _ in range(2):
        assert _body(visitor.get(f"/s/{token}/download/")) == CONTENT
    refused = visitor.get(f"/s/{token}/download/")
    assert refused.status_code == 410 and "No downloads left" in refused.content.decode()
    assert _reload(share).download_count == 2
    assert "No downloads left on this link." in visitor.get(f"/s/{token}/").content.decode()
    assert _body(visitor.get(f"/s/{second_token}/download/")) == CONTENT
    assert _reload(second).download_count == 1


def test_a_view_only_link_refuses_the_download_with_403(owner, visitor):
    share, token = _link(owner, file=_file(owner), allow_download=False)
    page = visitor.get(f"/s/{token}/")
    assert page.status_code == 200 and "The quarterly figures" in page.content.decode()
    assert f"/s/{token}/download/" not in page.content.decode()
    refused = visitor.get(f"/s/{token}/download/")
    assert refused.status_code == 403 and "Downloads are off for this link" in refused.content.decode()
    assert CONTENT not in refused.content
    assert _reload(share).download_count == 0


def test_a_download_only_link_shows_no_preview(owner, visitor):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    share, token = _link(owner, file=_file(owner, content=png, name="pic.png", mime="image/png"), allow_view=False)
    page = visitor.get(f"/s/{token}/").content.decode()
    assert f"/s/{token}/view/" not in page and f"/s/{token}/download/" in page
    assert visitor.get(f"/s/{token}/view/").status_code == 403
    _viewable, token2 = _link(owner, file=share.file)
    preview = visitor.get(f"/s/{token2}/view/")
    assert preview.status_code == 200 and preview["Content-Disposition"].startswith("inline")
    assert _body(preview) == png


def test_expiry_is_checked_on_every_request_at_the_boundary(owner, visitor, monkeypatch):
    expires = timezone.now() + timedelta(days=1)
    share, token = _link(owner, file=_file(owner), expires_at=expires)
    monkeypatch.setattr(timezone, "now", lambda: expires - timedelta(microseconds=1))
    assert visitor.get(f"/s/{token}/").status_code == 200
    assert _body(visitor.get(f"/s/{token}/download/")) == CONTENT
    monkeypatch.setattr(timezone, "now", lambda: expires)
    for url in (f"/s/{token}/", f"/s/{token}/download/", f"/s/{token}/view/"):
        expired = visitor.get(url)
        assert expired.status_code == 410 and "This link has expired" in expired.content.decode()
    assert _reload(share).download_count == 1


def test_a_file_in_the_trash_expired_or_quarantined_is_unreachable_through_every_link(owner, visitor, settings):
    file = _file(owner)
    _share, token = _link(owner, file=file)
    _other_share, other_token = _link(owner, file=file, password="open sesame")
    trash.file_trash(file=file)
    for url in (f"/s/{token}/", f"/s/{token}/download/", f"/s/{token}/view/", f"/s/{other_token}/download/"):
        response = visitor.get(url)
        assert response.status_code in (403, 404), url
        assert CONTENT not in response.content and b"report.txt" not in response.content
    assert visitor.get(f"/s/{token}/").status_code == 404
    trash.file_restore(user=owner, file=file)
    assert visitor.get(f"/s/{token}/").status_code == 200
    with tenant(owner.id):
        StorageFile.objects.filter(pk=file.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert visitor.get(f"/s/{token}/").status_code == 404
    with tenant(owner.id):
        StorageFile.objects.filter(pk=file.pk).update(expires_at=None, is_processed=False)
    assert visitor.get(f"/s/{token}/").status_code == 200  # no scanner configured: unscanned files are served
    settings.CLAMD_SOCKET = "/nonexistent/clamd.sock"
    assert visitor.get(f"/s/{token}/").status_code == 404  # with scanning on, an unscanned file is quarantined
    assert visitor.get(f"/s/{token}/download/").status_code == 404


def test_revoking_makes_the_link_404_at_once(owner, owner_client, visitor):
    share, token = _link(owner, file=_file(owner))
    assert visitor.get(f"/s/{token}/").status_code == 200
    response = owner_client.post(reverse("shares_owner:revoke", args=[share.pk]))
    assert response.status_code == 302
    assert _reload(share).revoked_at is not None
    for url in (f"/s/{token}/", f"/s/{token}/download/"):
        gone = visitor.get(url)
        assert gone.status_code == 404 and b"report.txt" not in gone.content
    assert _logs(owner, share=share)[-1] == "UNSHARE"


def test_wrong_and_malformed_tokens_are_404_pages(visitor, owner):
    _link(owner, file=_file(owner))
    for url in ("/s/" + "A" * 43 + "/", "/s/short/", "/s/" + "A" * 43 + "/download/", "/s/%00/"):
        response = visitor.get(url)
        assert response.status_code == 404, url


# --- passwords -----------------------------------------------------------------------------------------


def test_the_password_is_asked_before_anything_about_the_file(owner, visitor):
    share, token = _link(owner, file=_file(owner), password="open sesame")
    assert share.share_type == ShareType.PASSWORD and share.password.startswith(("md5$", "pbkdf2", "argon2"))
    page = visitor.get(f"/s/{token}/")
    html = page.content.decode()
    assert page.status_code == 200 and 'name="password"' in html
    assert "report.txt" not in html and "quarterly" not in html and "31 bytes" not in html
    locked = visitor.get(f"/s/{token}/download/")
    assert locked.status_code == 403 and CONTENT not in locked.content and b"report.txt" not in locked.content
    wrong = visitor.post(f"/s/{token}/", {"password": "open sesame!"})
    assert wrong.status_code == 403 and "That password is not right." in wrong.content.decode()
    assert "report.txt" not in wrong.content.decode()
    assert _logs(owner, share=share)[-1] == "DENIED"
    right = visitor.post(f"/s/{token}/", {"password": "open sesame"})
    assert right.status_code == 302 and right["Location"] == f"/s/{token}/"
    assert "report.txt" in visitor.get(f"/s/{token}/").content.decode()
    assert _body(visitor.get(f"/s/{token}/download/")) == CONTENT
    # Unlocked for that link only, in that browser only.
    other_share, other_token = _link(owner, file=share.file, password="another secret")
    assert 'name="password"' in visitor.get(f"/s/{other_token}/").content.decode()
    assert Client().get(f"/s/{token}/download/").status_code == 403


def test_a_new_password_is_not_a_short_one(owner):
    file = _file(owner)
    with pytest.raises(shares.ShareError, match="at least 8 characters"):
        shares.share_create(user=owner, file=file, password="short")
    with tenant(owner.id):
        assert not FileShare.objects.exists()


def test_wrong_passwords_are_throttled_per_link_with_a_growing_delay(owner, visitor, monkeypatch, settings):
    settings.SHARE_PASSWORD_FREE_ATTEMPTS = 3
    clock = [1_000_000.0]
    monkeypatch.setattr(shares, "_clock", lambda: clock[0])
    share, token = _link(owner, file=_file(owner), password="open sesame")
    for _ in range(3):
        assert visitor.post(f"/s/{token}/", {"password": "guess"}).status_code == 403
    throttled = visitor.post(f"/s/{token}/", {"password": "open sesame"})  # even the right one, unchecked
    assert throttled.status_code == 429 and "Too many wrong passwords" in throttled.content.decode()
    first_wait = int(throttled["Retry-After"])
    assert first_wait >= 1
    assert _logs(owner, share=share).count("DENIED") == 3
    # Another browser (same address) waits too: the count is the link's, not the session's.
    assert Client().post(f"/s/{token}/", {"password": "open sesame"}).status_code == 429
    clock[0] += first_wait
    assert visitor.post(f"/s/{token}/", {"password": "guess again"}).status_code == 403
    second = visitor.post(f"/s/{token}/", {"password": "open sesame"})
    assert second.status_code == 429 and int(second["Retry-After"]) > first_wait  # doubled
    clock[0] += int(second["Retry-After"])
    assert visitor.post(f"/s/{token}/", {"password": "open sesame"}).status_code == 302


def test_wrong_passwords_are_throttled_per_address_across_links(owner, monkeypatch, settings):
    settings.SHARE_PASSWORD_FREE_ATTEMPTS_PER_IP = 4
    monkeypatch.setattr(shares, "_clock", lambda: 5_000.0)
    file = _file(owner)
    links = [_link(owner, file=file, password=f"password number {i}")[1] for i in range(3)]
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [attacker.post(f"/s/{token}/", {"password": "guess"}).status_code for token in links + links]
    assert statuses[:4] == [403] * 4 and set(statuses[4:]) == {429}
    # Someone else, elsewhere, is not held up by it.
    assert Client(REMOTE_ADDR="198.51.100.7").post(f"/s/{links[0]}/", {"password": "password number 0"}).status_code == 302


# --- folders ---------------------------------------------------------------------------------------------


def test_a_folder_link_lists_its_files_and_those_below_with_downloads_per_file(owner, visitor):
    with tenant(owner.id):
        top = factories.folder(owner, name="Trip")
        below = factories.folder(owner, parent=top, name="Photos")
        elsewhere = factories.folder(owner, name="Private")
    inside = _file(owner, content=b"itinerary", name="plan.txt", folder=top)
    deeper = _file(owner, content=b"a photo", name="beach.txt", folder=below)
    outside = _file(owner, content=b"secret", name="diary.txt", folder=elsewhere)
    binned = _file(owner, content=b"old", name="old.txt", folder=top)
    trash.file_trash(file=binned)
    share, token = _link(owner, folder=top, max_downloads=3)
    page = visitor.get(f"/s/{token}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Trip" in html and "plan.txt" in html and "beach.txt" in html and "Photos" in html
    assert "diary.txt" not in html and "old.txt" not in html
    assert _body(visitor.get(f"/s/{token}/files/{deeper.pk}/download/")) == b"a photo"
    assert _body(visitor.get(f"/s/{token}/files/{inside.pk}/download/")) == b"itinerary"
    for refused in (outside, binned):
        assert visitor.get(f"/s/{token}/files/{refused.pk}/download/").status_code == 404
    assert _reload(share).download_count == 2
    assert _logs(owner, share=share) == ["VIEW", "DOWNLOAD", "DOWNLOAD"]


# --- the owner's pages ------------------------------------------------------------------------------------


def test_the_owner_creates_a_link_and_sees_it_once(owner, owner_client):
    file = _file(owner)
    url = reverse("shares_owner:file_links", args=[file.pk])
    assert owner_client.get(url).status_code == 200
    response = owner_client.post(url, {"password": "", "expires_at": "", "max_downloads": "3", "allow_view": "on",
                                       "allow_download": "on"})
    assert response.status_code == 302
    page = owner_client.get(url).content.decode()
    link = re.search(r'value="(http://testserver/s/[A-Za-z0-9_-]{43}/)"', page).group(1)
    with tenant(owner.id):
        share = FileShare.objects.get()
    assert share.max_downloads == 3 and share.expires_at > timezone.now() + timedelta(days=6)
    assert share.share_token == token_digest(link.rsplit("/", 2)[-2])
    assert link not in owner_client.get(url).content.decode()  # shown only once
    assert Client().get(link.replace("http://testserver", "")).status_code == 200


@pytest.mark.parametrize("data,message", [
    ({"max_downloads": "five"}, "Enter a whole number."),
    ({"max_downloads": "0"}, "greater than or equal to 1"),
    ({"max_downloads": "99999999999"}, "The download limit must be a whole number"),
    ({"expires_at": "2001-01-01T10:00"}, "The expiry must be in the future."),
    ({"expires_at": "tomorrow-ish"}, "Enter a valid date/time."),
    ({"expires_at": "2999-01-01T10:00"}, "A link can last at most 90 days."),
    ({"password": "short"}, "at least 8 characters"),
    ({"allow_view": "", "allow_download": ""}, "A link must allow viewing, downloading or both."),
])
def test_bad_input_says_why_and_creates_nothing(owner, owner_client, data, message):
    file = _file(owner)
    posted = {"password": "", "expires_at": "", "max_downloads": "", "allow_view": "on", "allow_download": "on", **data}
    posted = {key: value for key, value in posted.items() if value != "" or key not in ("allow_view", "allow_download")}
    response = owner_client.post(reverse("shares_owner:file_links", args=[file.pk]), posted)
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant(owner.id):
        assert not FileShare.objects.exists()


def test_every_share_management_and_log_url_is_404_for_another_user(owner, other_client):
    file = _file(owner)
    with tenant(owner.id):
        folder = factories.folder(owner, name="Mine")
    share, token = _link(owner, file=file)
    folder_share, _folder_token = _link(owner, folder=folder)
    urls_get = [
        reverse("shares_owner:file_links", args=[file.pk]),
        reverse("shares_owner:folder_links", args=[folder.pk]),
        reverse("shares_owner:link_log", args=[share.pk]),
        reverse("shares_owner:link_log", args=[folder_share.pk]),
        reverse("shares_owner:file_log", args=[file.pk]),
    ]
    for url in urls_get:
        assert other_client.get(url).status_code == 404, url
    for url in (reverse("shares_owner:file_links", args=[file.pk]), reverse("shares_owner:folder_links", args=[folder.pk])):
        assert other_client.post(url, {"allow_view": "on", "allow_download": "on"}).status_code == 404
    assert other_client.post(reverse("shares_owner:revoke", args=[share.pk])).status_code == 404
    assert other_client.post(reverse("shares_owner:revoke", args=[folder_share.pk])).status_code == 404
    with tenant(owner.id):
        assert FileShare.objects.count() == 2 and not FileShare.objects.filter(revoked_at__isnull=False).exists()


def test_signed_out_owner_pages_ask_to_sign_in(owner):
    file = _file(owner)
    response = Client().get(reverse("shares_owner:file_links", args=[file.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_service_refuses_another_users_file(owner, other):
    file = _file(owner)
    with pytest.raises(shares.ShareError):
        shares.share_create(user=other, file=file)
    with tenant(owner.id):
        assert not FileShare.objects.exists()


def test_a_password_posted_to_a_link_without_one_changes_nothing(owner, visitor):
    share, token = _link(owner, file=_file(owner))
    response = visitor.post(f"/s/{token}/", {"password": "whatever"})
    assert response.status_code == 302 and response["Location"] == f"/s/{token}/"
    assert "DENIED" not in _logs(owner, share=share)


# --- the database's own rules, as the runtime role ----------------------------------------------------


def test_a_link_or_log_row_naming_another_owners_rows_is_refused(owner, other):
    from django.db import IntegrityError, transaction

    mine = _file(owner)
    theirs = _file(other, content=b"theirs")
    with tenant(other.id):
        their_folder = factories.folder(other, name="Theirs")
    their_share, _token = _link(other, file=theirs)
    with tenant(owner.id):
        for values in ({"file_id": theirs.pk}, {"folder_id": their_folder.pk}):
            with pytest.raises(IntegrityError), transaction.atomic():
                FileShare.objects.create(shared_by=owner, user=owner, share_token="d" * 64, **values)
        with pytest.raises(IntegrityError), transaction.atomic():  # a log row of my file naming their link
            FileAccessLog.objects.create(file=mine, owner=owner, action="VIEW", share_id=their_share.pk)
        with pytest.raises(IntegrityError), transaction.atomic():  # neither a file nor a folder
            FileShare.objects.create(shared_by=owner, user=owner, share_token="e" * 64)
        assert not FileShare.objects.filter(pk=their_share.pk).exists()  # RLS: their link is invisible to me
    with tenant(other.id):
        assert FileShare.objects.filter(user=other).count() == 1


def test_a_folder_link_is_made_from_the_folder_links_page(owner, owner_client):
    with tenant(owner.id):
        folder = factories.folder(owner, name="Shared stuff")
    url = reverse("shares_owner:folder_links", args=[folder.pk])
    assert "Share the folder" in owner_client.get(url).content.decode()
    response = owner_client.post(url, {"allow_view": "on", "allow_download": "on", "max_downloads": ""})
    assert response.status_code == 302
    with tenant(owner.id):
        share = FileShare.objects.get()
    assert share.folder_id == folder.pk and share.file_id is None and share.user_id == owner.id
    link = re.search(r'value="http://testserver(/s/[A-Za-z0-9_-]{43}/)"', owner_client.get(url).content.decode()).group(1)
    assert "Shared stuff" in Client().get(link).content.decode()


def test_links_end_with_their_owners_account(owner, visitor):
    from accounts import services as account_services

    _share, token = _link(owner, file=_file(owner))
    assert visitor.get(f"/s/{token}/").status_code == 200
    account_services.user_soft_delete(user=owner)
    assert visitor.get(f"/s/{token}/").status_code == 404
    assert visitor.get(f"/s/{token}/download/").status_code == 404


def test_the_owners_panel_says_which_links_have_expired(owner, owner_client):
    file = _file(owner)
    share, _token = _link(owner, file=file)
    _live, _live_token = _link(owner, file=file)
    with tenant(owner.id):
        FileShare.objects.filter(pk=share.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page = owner_client.get(reverse("storage:file", args=[file.pk])).content.decode()
    badges = re.findall(r'<span class="badge">([^<]+)</span>', page)
    assert sorted(badges) == ["Active", "Expired"]
