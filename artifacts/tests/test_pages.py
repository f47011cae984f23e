"""The owner's pages: versions, diff, restore, edit with preview, manual creation, downloads,
bulk delete, filters, search and the list's query count; another person gets 404 everywhere."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts import services
from artifacts.models import Artifact
from core.tenancy import tenant
from testutils import factories
from testutils.testing import messages_of

from .conftest import make

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(staff):
    return factories.agent(staff, is_public=True, name="Helper")


@pytest.fixture
def conversation(owner, agent):
    with tenant(owner.id):
        return factories.conversation(owner, agent_=agent)


@pytest.fixture
def code(owner, agent, conversation):
    return make(owner, agent, conversation, content="def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n", language="python")


def _edit(client, artifact, content, **extra):
    return client.post(reverse("artifacts:edit", args=[artifact.pk]),
                       {"name": artifact.name, "content": content, "base": artifact.version, **extra})


def test_editing_makes_a_new_version_and_never_rewrites_the_old(owner_client, owner, code):
    response = _edit(owner_client, code, "def add(a, b):\n    return a + b + 0\n")
    with tenant(owner.id):
        second = Artifact.objects.get(parent=code)
        code.refresh_from_db()
    assert response.status_code == 302 and response.url == reverse("artifacts:detail", args=[second.pk])
    assert second.version == 2 and second.metadata["origin"] == "edit"
    assert code.content.startswith("def add(a, b):\n    return a + b\n")  # version 1 as it was
    page = owner_client.get(reverse("artifacts:detail", args=[code.pk])).content.decode()
    assert "This is an older version." in page and "Restore this version" in page
    # Editing an old version starts from the newest.
    assert owner_client.get(reverse("artifacts:edit", args=[code.pk])).url == reverse("artifacts:edit", args=[second.pk])


def test_a_save_from_a_stale_version_is_refused(owner_client, owner, code):
    _edit(owner_client, code, "one\n")
    with tenant(owner.id):
        second = Artifact.objects.get(parent=code)
    stale = owner_client.post(reverse("artifacts:edit", args=[second.pk]), {"name": "x", "content": "two", "base": 1})
    assert stale.status_code == 400
    assert "A newer version was saved meanwhile" in stale.content.decode()
    with tenant(owner.id):
        assert Artifact.objects.count() == 2


def test_two_versions_from_the_same_parent_cannot_both_exist(owner, code):
    from django.db import IntegrityError, transaction

    with tenant(owner.id), pytest.raises(IntegrityError), transaction.atomic():
        for n in (2, 3):
            Artifact.objects.create(agent_id=code.agent_id, user=owner, name="x", type="CODE", content="y", version=n, parent=code)


def test_preview_shows_the_rendering_without_saving(owner_client, owner, agent):
    doc = make(owner, agent, name="notes.md", type="MARKDOWN", content="# Title\n\nSome text.")
    response = _edit(owner_client, doc, "# New title\n\n<script>alert(1)</script> **bold**", preview="1")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>New title</h1>" in html and "<strong>bold</strong>" in html
    assert "<script>alert(1)</script>" not in html
    with tenant(owner.id):
        assert Artifact.objects.count() == 1


def test_diff_between_any_two_versions_is_escaped(owner_client, owner, code):
    second = services.artifact_revise(user=owner, artifact=code, content="def add(a, b):\n    return a + b\n\nprint('<b>x</b>')\n")
    services.artifact_revise(user=owner, artifact=second, content="completely different\n")
    response = owner_client.get(reverse("artifacts:diff", args=[code.pk]), {"a": 1, "b": 2})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lines added: 1; removed: 1." in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert 'class="diff-added"' in html and 'class="diff-removed"' in html
    # Versions that do not exist fall back to the last two, never a 500.
    assert owner_client.get(reverse("artifacts:diff", args=[code.pk]), {"a": "x", "b": 99}).status_code == 200


def test_restore_makes_the_old_version_the_newest(owner_client, owner, code):
    second = services.artifact_revise(user=owner, artifact=code, content="changed\n")
    response = owner_client.post(reverse("artifacts:restore", args=[code.pk]))
    with tenant(owner.id):
        third = Artifact.objects.get(parent=second)
    assert response.url == reverse("artifacts:detail", args=[third.pk])
    assert third.version == 3 and third.content == code.content and third.metadata["restored_from"] == 1
    assert "Version 1 restored as version 3." in messages_of(owner_client.get(response.url))


def test_new_artifact_from_scratch_and_its_refusals(owner_client, owner, agent):
    url = reverse("artifacts:new")
    assert owner_client.get(url).status_code == 200
    bad = owner_client.post(url, {"name": "data", "type": "JSON", "agent": agent.pk, "content": "{'a': 1,}"})
    assert bad.status_code == 400 and "This is not valid JSON" in bad.content.decode()
    svg = owner_client.post(url, {"name": "x", "type": "IMAGE", "agent": agent.pk, "content": "data:text/html;base64,PGI+"})
    assert svg.status_code == 400 and "Only PNG, JPEG, GIF and WebP images" in svg.content.decode()
    with tenant(owner.id):
        assert not Artifact.objects.exists()  # nothing half-saved
    good = owner_client.post(url, {"name": "data.json", "type": "JSON", "agent": agent.pk, "content": '{"a": [1, 2]}'})
    with tenant(owner.id):
        artifact = Artifact.objects.get()
    assert good.url == reverse("artifacts:detail", args=[artifact.pk])
    page = owner_client.get(good.url).content.decode()
    assert 'class="json-tree"' in page and "json-key" in page


def test_a_huge_paste_is_refused_with_a_message(owner_client, owner, agent):
    body = "x" * (3 * 1024 * 1024)
    response = owner_client.post(reverse("artifacts:new"), {"name": "big", "type": "CODE", "agent": agent.pk, "content": body})
    assert response.status_code == 413
    assert "This is too much text to send at once" in response.content.decode()
    with tenant(owner.id):
        assert not Artifact.objects.exists()


def test_a_50_mb_block_is_refused_by_the_service(owner, agent):
    from artifacts.errors import ArtifactRefused

    with pytest.raises(ArtifactRefused) as refused:
        make(owner, agent, content="y" * (50 * 1024 * 1024))
    assert "too large to keep" in str(refused.value.message)


def test_save_a_message_or_a_selection(owner_client, owner, conversation):
    with tenant(owner.id):
        message = factories.message(owner, conv=conversation, role="assistant", content="First part.\n\nSecond part with detail.")
    url = reverse("artifacts:from_message", args=[message.pk])
    whole = owner_client.post(url)
    part = owner_client.post(url, {"selection": "Second part with detail."})
    rendered = owner_client.post(url, {"selection": "Second part with detail"})  # as the page showed it
    assert whole.status_code == part.status_code == rendered.status_code == 302
    with tenant(owner.id):
        saved = list(Artifact.objects.order_by("created_at").values_list("content", "type", "metadata"))
    assert saved[0][0] == message.content and saved[1][0] == "Second part with detail."
    assert saved[2][0] == "Second part with detail"
    assert saved[0][1] == "MARKDOWN" and saved[1][2]["source_message_id"] == str(message.pk)


@pytest.mark.parametrize(("kind", "name", "language", "content", "filename", "mime"), [
    ("CODE", "app", "python", "print(1)", "app.py", "text/plain; charset=utf-8"),
    ("CODE", "main.rs", "rust", "fn main() {}", "main.rs", "text/plain; charset=utf-8"),
    ("JSON", "data", "", '{"a": 1}', "data.json", "application/json; charset=utf-8"),
    ("TABLE", "scores", "", "| a | b |\n|---|---|\n| 1 | 2 |", "scores.csv", "text/csv; charset=utf-8"),
    ("MARKDOWN", "notes", "", "# Notes", "notes.md", "text/markdown; charset=utf-8"),
    ("HTML", "page", "", "<p>hi</p>", "page.html", "text/html; charset=utf-8"),
])
def test_download_has_the_right_name_and_type(owner_client, owner, agent, kind, name, language, content, filename, mime):
    artifact = make(owner, agent, name=name, type=kind, content=content, language=language,
                    format="markdown" if kind == "TABLE" else "")
    response = owner_client.get(reverse("artifacts:download", args=[artifact.pk]))
    assert response["Content-Type"] == mime
    assert f'filename="{filename}"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    if kind == "TABLE":
        assert response.content.decode().splitlines() == ["a,b", "1,2"]


def test_bulk_delete_removes_every_version(owner_client, owner, agent, code):
    services.artifact_revise(user=owner, artifact=code, content="v2\n")
    other = make(owner, agent, name="keep.py")
    response = owner_client.post(reverse("artifacts:bulk_delete"), {"artifact": [str(code.pk)]})
    assert "1 artifact deleted." in messages_of(owner_client.get(response.url))
    with tenant(owner.id):
        assert list(Artifact.objects.values_list("pk", flat=True)) == [other.pk]


def test_filters_and_search(owner_client, owner, agent, conversation, staff):
    second_agent = factories.agent(staff, is_public=True, name="Second")
    make(owner, agent, conversation, name="parser.py", language="python", content="def parse_tokens(text):\n    return text.split()\n")
    make(owner, second_agent, name="query.sql", language="sql", content="SELECT name FROM accounts WHERE active;\n")
    make(owner, agent, name="flow", type="DIAGRAM", content="flowchart TD\n  A --> B\n")
    url = reverse("artifacts:list")

    def names(**params):
        html = owner_client.get(url, params).content.decode()
        return sorted(re.findall(r'class="artifact-row-name" href="[^"]+">([^<]+)</a>', html))

    assert names() == ["flow", "parser.py", "query.sql"]
    assert names(type="DIAGRAM") == ["flow"]
    assert names(language="sql") == ["query.sql"]
    assert names(agent=second_agent.pk) == ["query.sql"]
    assert names(conversation=conversation.pk) == ["parser.py"]
    assert names(q="parse_tokens") == ["parser.py"]
    assert names(q="accounts") == ["query.sql"]
    assert names(q="query") == ["query.sql"]
    assert names(type="NOPE", agent="not-a-uuid", q="\x00") == ["flow", "parser.py", "query.sql"]


def test_the_list_runs_the_same_queries_for_10_and_500(owner_client, owner, agent, conversation):
    def fill(n):
        with tenant(owner.id):
            Artifact.objects.bulk_create([
                Artifact(agent=agent, user=owner, conversation=conversation, name=f"a{i}", type="CODE", content="x" * 50,
                         metadata={"language": "python", "line_count": 1, "byte_size": 50}) for i in range(n)])

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(reverse("artifacts:list"), {"language": "python"}).status_code == 200
        return len(captured)

    def count_all():  # every row: its agent, and its conversation (or none), come with it
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(reverse("artifacts:list"), {"page": "2"}).status_code == 200
        return len(captured)

    fill(10)
    small, small_all = count(), count_all()
    fill(490)
    with tenant(owner.id):
        Artifact.objects.filter(name__endswith="7").update(conversation=None)
    assert count() == small and count_all() == small_all


def test_the_list_rows_show_what_each_artifact_is(owner_client, owner, agent, conversation, staff):
    """The rows are made in Python (artifacts/rows.py): each row's badges, meta line and links, escaped."""
    from django.utils import timezone
    from django.utils.formats import date_format

    with tenant(owner.id):
        conversation.title = ""
        conversation.save(update_fields=["title"])
    code = make(owner, agent, conversation, name='a <b>"&".py', language="python", content="x = 1\ny = 2\n")
    services.artifact_share(user=owner, artifact=code)
    table = make(owner, factories.agent(staff, is_public=True, name="Tabler & co"), name="totals", type="TABLE",
                 content="| a |\n|---|\n| 1 |\n")
    html = owner_client.get(reverse("artifacts:list")).content.decode()
    rows = {artifact.pk: html[html.index(f'value="{artifact.pk}"'):] for artifact in (code, table)}
    rows = {pk: row[:row.index("</li>")] for pk, row in rows.items()}
    name = "a &lt;b&gt;&quot;&amp;&quot;.py"
    assert f'aria-label="Select {name}"' in rows[code.pk] and "<b>" not in rows[code.pk]
    assert f'<a class="artifact-row-name" href="{reverse("artifacts:detail", args=[code.pk])}">{name}</a>' in rows[code.pk]
    assert '<span class="badge">Code</span>' in rows[code.pk] and '<span class="badge secondary">python</span>' in rows[code.pk]
    assert '<span class="badge public">Public</span>' in rows[code.pk] and "badge public" not in rows[table.pk]
    assert f'Helper · <a href="{reverse("chats:detail", args=[conversation.pk])}">Untitled conversation</a> ·' in rows[code.pk]
    assert "Version 1 ·" in rows[code.pk] and "· 2 lines" in rows[code.pk]
    created = timezone.localtime(code.created_at)
    assert f'<time datetime="{created.isoformat()}">{date_format(created, "SHORT_DATETIME_FORMAT")}</time>' in rows[code.pk]
    assert '<span class="badge">Table</span>' in rows[table.pk] and "Tabler &amp; co ·" in rows[table.pk]
    assert "chats" not in rows[table.pk].split("artifact-row-meta")[1]  # no conversation, no link
    html = owner_client.get(reverse("artifacts:list"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert f'aria-label="Seleccionar {name}"' in html and "Versión 1 ·" in html and "Conversación sin título" in html


def test_the_gin_index_serves_the_metadata_filters(owner, agent):
    """The filters are ``metadata @> {...}`` (the operator the GIN index serves), and PostgreSQL
    answers them from ``idx_artifacts_metadata_gin`` (the full-text search from its own index)."""
    make(owner, agent, language="python")
    from artifacts.selectors import _FILTERS, artifact_page

    assert dict(_FILTERS)["language"] == "artifacts.metadata @> %(language)s::jsonb"
    with tenant(owner.id), CaptureQueriesContext(connection) as captured:
        assert artifact_page(user=owner, language="PYTHON", size=30)[0] == 1
    assert "artifacts.metadata @> '{\"language\": \"python\"}'::jsonb" in captured.captured_queries[0]["sql"]
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM artifacts WHERE metadata @> %s::jsonb", ['{"language": "python"}'])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN SELECT id FROM artifacts WHERE to_tsvector('simple', public.immutable_unaccent("
                       "name || ' ' || left(content, 200000))) @@ websearch_to_tsquery('simple', 'x')")
        search_plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "idx_artifacts_metadata_gin" in plan, plan
    assert "idx_artifacts_fulltext" in search_plan, search_plan


@pytest.mark.parametrize("name", ["detail", "panel", "edit", "diff", "download", "frame", "image"])
def test_another_persons_artifact_is_a_404_on_every_page(other_client, owner, agent, name):
    artifact = make(owner, agent, type="HTML", name="page", content="<p>secret</p>")
    assert other_client.get(reverse(f"artifacts:{name}", args=[artifact.pk])).status_code == 404


@pytest.mark.parametrize("name", ["restore", "share", "unshare", "delete"])
def test_another_persons_artifact_is_a_404_on_every_write(other_client, owner, agent, name):
    artifact = make(owner, agent)
    assert other_client.post(reverse(f"artifacts:{name}", args=[artifact.pk])).status_code == 404
    with tenant(owner.id):
        assert Artifact.objects.filter(pk=artifact.pk, is_public=False).exists()


def test_another_persons_message_and_conversation_are_404(other_client, owner, conversation):
    with tenant(owner.id):
        message = factories.message(owner, conv=conversation, role="assistant", content="mine")
    assert other_client.post(reverse("artifacts:from_message", args=[message.pk])).status_code == 404
    assert other_client.get(reverse("artifacts:conversation_panel", args=[conversation.pk])).status_code == 404


def test_bulk_delete_ignores_another_persons_ids(other_client, owner, agent):
    artifact = make(owner, agent)
    other_client.post(reverse("artifacts:bulk_delete"), {"artifact": [str(artifact.pk)]})
    with tenant(owner.id):
        assert Artifact.objects.filter(pk=artifact.pk).exists()


def test_sign_in_is_required(client, owner, agent):
    artifact = make(owner, agent)
    response = client.get(reverse("artifacts:detail", args=[artifact.pk]))
    assert response.status_code == 302 and "login" in response.url


def test_the_conversation_lists_its_artifacts_at_their_newest_version(owner_client, owner, agent, conversation):
    first = make(owner, agent, conversation, name="plan.md", type="MARKDOWN", content="# Plan")
    services.artifact_revise(user=owner, artifact=first, content="# Plan, second draft")
    make(owner, agent, name="elsewhere.py")  # another conversation's (none)
    html = owner_client.get(reverse("artifacts:conversation_panel", args=[conversation.pk])).content.decode()
    assert "plan.md" in html and "v2" in html and "elsewhere.py" not in html
    page = owner_client.get(reverse("chats:detail", args=[conversation.pk])).content.decode()
    assert f'href="{reverse("artifacts:list")}?conversation={conversation.pk}"' in page
    assert 'id="artifact-panel"' in page and 'id="artifact-save-form"' in page
