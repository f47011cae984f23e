"""The app shell (sidebar navigation, account menu, theme) and the chat-first start page, through
the real views as a browser would hit them."""

import re

import pytest
from django.test import Client

from chats.models import Conversation, Message
from core.context_processors import NAVIGATION
from core.tenancy import tenant
from testutils import factories
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db


def _sidebar(html: str) -> str:
    match = re.search(r'<aside id="sidebar".*?</aside>', html, re.S)
    assert match, "no sidebar on the page"
    return match.group(0)


def _nav_links(html: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="sidebar-nav".*?</nav>', html, re.S).group(0)
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)


# --- navigation ---------------------------------------------------------------------------------


def test_sidebar_groups_show_only_pages_that_exist(owner_client):
    html = owner_client.get("/").content.decode()
    nav = re.search(r'<nav class="sidebar-nav".*?</nav>', html, re.S).group(0)
    groups = re.findall(r'class="nav-group-title"[^>]*>([^<]+)<', nav)
    assert groups == ["Assistant", "Personal", "Account"]
    assert _nav_links(html) == [
        ("/", "Chat"), ("/agents/", "Agents"), ("/documents/", "Documents"), ("/artifacts/", "Artifacts"),
        ("/files/", "Files"),
        ("/finance/", "Finance"), ("/health/", "Health"),
        ("/usage/", "Usage"), ("/account/settings/", "Settings"), ("/support/", "Help"),
    ]
    for href, _label in _nav_links(html):  # no dead links
        assert owner_client.get(href).status_code == 200, href


def test_every_navigation_entry_names_a_real_page():
    from django.urls import reverse

    for group in NAVIGATION:
        for item in group.items:
            assert reverse(item.url_name)


def test_staff_and_admins_see_their_pages(staff_client):
    links = _nav_links(staff_client.get("/").content.decode())
    assert ("/admin/", "Admin") in links
    admin = make_user(role="ADMIN")
    links = _nav_links(client_for(admin).get("/").content.decode())
    assert ("/account/invitations/", "Invitations") in links


def test_the_current_page_is_marked(owner_client):
    html = owner_client.get("/agents/").content.decode()
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', _sidebar(html)) == ["/agents/"]
    html = owner_client.get("/chat/").content.decode()
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', _sidebar(html)) == ["/"]


@pytest.mark.parametrize("url", ["/account/sessions/", "/accounts/email/", "/accounts/2fa/", "/usage/", "/documents/"])
def test_every_signed_in_page_uses_the_shell(owner_client, url):
    html = owner_client.get(url).content.decode()
    _sidebar(html)
    assert html.count('action="/accounts/logout/"') == 1


def test_a_chat_page_keeps_its_layout_inside_the_shell(owner_client, owner):
    agent = factories.agent(owner, name="Planner")
    html = owner_client.get(f"/chat/new/{agent.slug}/").content.decode()
    _sidebar(html)
    assert 'id="composer"' in html and "New conversation with Planner" in html


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_signed_out_pages_get_the_simple_shell(client, url):
    html = client.get(url).content.decode()
    assert 'id="sidebar"' not in html and "sidebar-nav" not in html
    assert 'href="/accounts/login/"' in html and 'href="/accounts/signup/"' in html
    assert 'id="language-select"' in html and 'action="/theme/"' in html
    assert 'action="/accounts/logout/"' not in html


# --- the account menu ---------------------------------------------------------------------------


def test_account_menu_holds_language_theme_sessions_2fa_and_sign_out(owner_client):
    html = owner_client.get("/documents/").content.decode()
    menu = re.search(r'<details class="menu account-menu">.*?</details>', html, re.S).group(0)
    for needle in ('action="/account/language/"', 'action="/theme/"', 'href="/account/sessions/"',
                   'href="/accounts/2fa/"', 'action="/accounts/logout/"', 'value="/documents/"'):
        assert needle in menu, needle
    assert menu.count("<form") == 3 == menu.count("csrfmiddlewaretoken")
    assert html.count('id="language-select"') == 1  # one language switch per page


def test_account_menu_forms_refuse_a_post_without_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner, backend="allauth.account.auth_backends.AuthenticationBackend")
    for url, data in (("/theme/", {"theme": "dark"}), ("/account/language/", {"language": "es"}),
                      ("/accounts/logout/", {})):
        assert client.post(url, data).status_code == 403, url
    html = client.get("/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post("/theme/", {"theme": "dark", "next": "/usage/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/usage/"


# --- theme --------------------------------------------------------------------------------------


def test_theme_is_remembered_in_a_cookie_and_rendered_on_every_page(owner_client):
    assert 'data-theme="system"' in owner_client.get("/").content.decode()
    response = owner_client.post("/theme/", {"theme": "dark", "next": "/agents/"})
    assert response.status_code == 302 and response["Location"] == "/agents/"
    cookie = response.cookies["theme"]
    assert cookie.value == "dark" and cookie["samesite"] == "Lax" and int(cookie["max-age"]) > 30 * 24 * 3600
    html = owner_client.get("/agents/").content.decode()
    assert 'data-theme="dark"' in html
    assert re.search(r'<input type="radio" name="theme" value="dark" checked>', html)
    owner_client.post("/theme/", {"theme": "light", "next": "/"})
    assert 'data-theme="light"' in owner_client.get("/").content.decode()


def test_theme_works_signed_out_and_ignores_bad_values(client):
    client.post("/theme/", {"theme": "dark", "next": "/accounts/login/"})
    assert 'data-theme="dark"' in client.get("/accounts/login/").content.decode()
    response = client.post("/theme/", {"theme": "neon", "next": "https://evil.example/"})
    assert response["Location"] == "/"  # never off-site
    assert "theme" not in response.cookies
    client.cookies["theme"] = '"><script>'
    assert 'data-theme="system"' in client.get("/accounts/login/").content.decode()
    assert client.get("/theme/").status_code == 405


def test_theme_is_applied_before_first_paint_without_inline_script(client):
    html = client.get("/accounts/login/").content.decode()
    head = html.split("</head>")[0]
    theme_tag = re.search(r'<script src="[^"]*theme\.js"></script>', head)
    assert theme_tag and head.index(theme_tag.group(0)) < head.index("app.css")  # blocking, before CSS
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script anywhere
    assert not re.search(r'\sstyle="', html)
    assert "script-src 'self'" in client.get("/accounts/login/")["Content-Security-Policy"]


# --- the chat-first start page ------------------------------------------------------------------


def test_home_is_a_composer_with_agent_picker_starters_and_recent_conversations(owner_client, owner):
    first = factories.agent(owner, name="Alpha")
    second = factories.agent(owner, name="Beta")
    with tenant(owner.id):
        factories.conversation(owner, agent_=second)
    html = owner_client.get("/").content.decode()
    form = re.search(r'<form method="post" action="/" class="home-composer".*?</form>', html, re.S).group(0)
    assert "csrfmiddlewaretoken" in form
    assert f'<option value="{second.slug}" selected>Beta</option>' in form  # the last agent used
    assert f'<option value="{first.slug}">Alpha</option>' in form
    assert '<label for="id_content"' in form and '<textarea name="content"' in form
    assert len(re.findall(r'class="button small secondary starter" name="content"', form)) == 4
    assert "Recent conversations" in html and "Hello" in html and 'href="/chat/"' in html
    assert 'class="home-composer"' in owner_client.get(f"/?agent={first.slug}").content.decode()
    assert f'<option value="{first.slug}" selected>' in owner_client.get(f"/?agent={first.slug}").content.decode()


def test_home_composer_starts_a_conversation_with_the_picked_agent(owner_client, owner):
    factories.agent(owner, name="Alpha")
    beta = factories.agent(owner, name="Beta")
    response = owner_client.post("/", {"agent": beta.slug, "content": "Plan a trip to Lisbon"})
    with tenant(owner.id):
        conversation = Conversation.objects.get(user=owner)
        messages = list(Message.objects.filter(conversation=conversation).values_list("role", "content"))
    assert conversation.agent_id == beta.id
    assert messages == [("user", "Plan a trip to Lisbon")]
    assert response.status_code == 302 and response["Location"] == f"/chat/{conversation.id}/"
    # The chat page then asks for the answer as after any first message.
    assert "data-stream-url=" in owner_client.get(response["Location"]).content.decode()


def test_a_starter_prompt_is_sent_as_the_first_message(owner_client, owner):
    agent = factories.agent(owner)
    # The starter button's value comes after the (empty) textarea's in the form data.
    owner_client.post("/", {"agent": agent.slug, "content": ["", "Help me plan my week"]})
    with tenant(owner.id):
        assert list(Message.objects.values_list("content", flat=True)) == ["Help me plan my week"]


def test_home_composer_refuses_empty_messages_and_agents_the_user_cannot_use(owner_client, owner, other):
    agent = factories.agent(owner)
    response = owner_client.post("/", {"agent": agent.slug, "content": "  "})
    assert response.status_code == 400 and "Write a message first." in response.content.decode()
    private = factories.agent(other, is_public=False)
    assert owner_client.post("/", {"agent": private.slug, "content": "hi"}).status_code == 404
    assert owner_client.post("/", {"content": "hi"}).status_code == 404
    with tenant(owner.id):
        assert not Conversation.objects.exists()


def test_home_without_agents_says_so(owner_client):
    html = owner_client.get("/").content.decode()
    assert "No agents are available to you yet." in html and "home-composer" not in html


# --- the offline-model notice -------------------------------------------------------------------

NOTICE = "Only the built-in offline model is set up"


def test_offline_notice_shows_until_dismissed_then_stays_dismissed(owner_client, settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""
    html = owner_client.get("/").content.decode()
    assert NOTICE in html and "OPENAI_API_KEY" in html and "ANTHROPIC_API_KEY" in html
    assert NOTICE in owner_client.get("/").content.decode()  # not gone on its own
    assert owner_client.get("/notices/offline/dismiss/").status_code == 405
    response = owner_client.post("/notices/offline/dismiss/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert NOTICE not in owner_client.get("/").content.decode()
    assert NOTICE not in owner_client.get("/").content.decode()


def test_offline_notice_is_per_user(owner_client, other_client, settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""
    owner_client.post("/notices/offline/dismiss/")
    assert NOTICE in other_client.get("/").content.decode()


def test_offline_notice_is_not_shown_when_a_real_model_is_configured(owner_client, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    assert NOTICE not in owner_client.get("/").content.decode()


def test_home_speaks_spanish(owner_client, settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""
    owner_client.post("/account/language/", {"language": "es", "next": "/"})
    html = owner_client.get("/").content.decode()
    assert 'lang="es"' in html and "Bienvenido" in html
