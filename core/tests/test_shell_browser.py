"""The app shell and the chat-first start page in a real Chromium, at the phone (390 px) and desktop
(1280 px) widths: the drawer and its keyboard, the collapsible sidebar, no horizontal scroll on any
main page, the theme before first paint, the home composer starting a chat with the picked agent,
and the one-time offline-model notice."""

import re

import pytest

from chats.models import Conversation
from core.tenancy import tenant
from testutils import factories
from testutils.browser import VIEWPORTS
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FITS = "document.documentElement.scrollWidth <= window.innerWidth + 1"
BACKGROUND = "getComputedStyle(document.body).backgroundColor"
LIGHT_BG, DARK_BG = "rgb(246, 247, 251)", "rgb(15, 17, 23)"


@pytest.fixture
def walker(db):
    return make_user("walker@example.com", name="Walker")


def test_phone_drawer_opens_and_closes_with_the_keyboard(signed_in_page, walker):
    page = signed_in_page(walker, "phone")
    page.goto("/")
    sidebar = page.locator("#sidebar")
    assert sidebar.is_hidden()
    toggle = page.get_by_role("button", name="Open the menu")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.focus()
    page.keyboard.press("Enter")
    assert sidebar.is_visible()
    assert page.locator(".nav-toggle").get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.closest('#sidebar') !== null")  # focus moved in
    assert page.evaluate("document.querySelector('.shell-main').inert")  # the page behind is out of reach
    assert page.get_by_role("link", name="Documents").is_visible()
    assert page.evaluate(FITS)
    # Tab stays inside the open drawer.
    for _ in range(25):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('#sidebar') !== null")
    page.keyboard.press("Escape")
    page.wait_for_function("() => getComputedStyle(document.getElementById('sidebar')).visibility === 'hidden'")
    assert page.evaluate("document.activeElement.classList.contains('nav-toggle')")  # focus returned
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.evaluate("document.querySelector('.shell-main').inert")
    # The backdrop and the drawer's own close button close it too, and a link in it navigates.
    toggle.click()
    page.locator(".sidebar-backdrop").click(position={"x": 370, "y": 400})
    page.wait_for_function("() => getComputedStyle(document.getElementById('sidebar')).visibility === 'hidden'")
    toggle.click()
    page.locator("#sidebar").get_by_role("button", name="Close the menu").click()
    page.wait_for_function("() => getComputedStyle(document.getElementById('sidebar')).visibility === 'hidden'")
    assert page.evaluate("document.activeElement.classList.contains('nav-toggle')")
    toggle.click()
    page.get_by_role("link", name="Agents", exact=True).click()
    page.wait_for_url(re.compile(r"/agents/$"))
    assert page.locator("#sidebar").is_hidden()
    assert page.problems == []


def test_account_menu_opens_from_the_keyboard_and_escape_closes_it(signed_in_page, walker):
    page = signed_in_page(walker, "desktop")
    page.goto("/usage/")
    summary = page.locator(".account-summary")
    summary.focus()
    page.keyboard.press("Enter")
    for control in ("Language", "Sessions", "Two-factor authentication", "Sign out"):
        assert page.get_by_text(control, exact=True).first.is_visible(), control
    assert page.get_by_role("radio", name="Dark").is_visible()
    page.keyboard.press("Escape")
    assert page.get_by_role("button", name="Sign out").is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('account-summary')")
    assert page.evaluate(FITS)


def test_desktop_sidebar_collapses_and_stays_collapsed(signed_in_page, walker):
    page = signed_in_page(walker, "desktop")
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.is_visible() and page.get_by_role("link", name="Chat").get_attribute("aria-current") == "page"
    assert page.locator(".sidebar-backdrop").is_hidden()
    page.get_by_role("button", name="Close the menu").click()
    assert nav.is_hidden()
    page.reload()
    assert nav.is_hidden()  # restored before paint by theme.js
    assert page.get_by_role("button", name="Open the menu").get_attribute("aria-expanded") == "false"
    page.get_by_role("button", name="Open the menu").click()
    assert nav.is_visible()
    page.reload()
    assert nav.is_visible()
    assert page.problems == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_no_horizontal_scroll_on_the_main_pages(signed_in_page, browser_page, walker, viewport):
    agent = factories.agent(walker, name="A planner with a rather long name for a narrow phone screen")
    with tenant(walker.id):
        conversation = factories.conversation(walker, agent_=agent)
        factories.message(walker, conv=conversation, content="word " * 200, role="assistant")  # no pending answer
    page = signed_in_page(walker, viewport)
    for url in ("/", "/chat/", f"/chat/new/{agent.slug}/", f"/chat/{conversation.id}/", "/documents/",
                "/agents/", "/usage/", "/account/settings/", "/account/sessions/", "/accounts/2fa/"):
        page.goto(url)
        assert page.evaluate(FITS), (viewport, url)
        assert page.locator("#sidebar").count() == 1, url
    assert page.problems == []
    # Signed out: the simple shell, no app navigation.
    login = browser_page
    login.set_viewport_size(VIEWPORTS[viewport])
    login.goto("/accounts/login/")
    assert login.evaluate(FITS)
    assert login.locator("#sidebar").count() == 0
    login.get_by_text("Preferences").click()
    assert login.get_by_label("Language").is_visible()
    assert login.evaluate(FITS)


def test_theme_switch_is_remembered_and_applied_before_paint(signed_in_page, walker):
    page = signed_in_page(walker, "phone", color_scheme="light")
    page.goto("/")
    assert page.evaluate(BACKGROUND) == LIGHT_BG
    page.get_by_role("button", name="Open the menu").click()
    page.locator(".account-summary").click()
    with page.expect_navigation():
        page.get_by_role("radio", name="Dark").click()  # applies on change, and the form posts
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate(BACKGROUND) == DARK_BG
    # A fresh load is dark from its first frame: the attribute is in the HTML, not set by script.
    page.route("**/static/js/**", lambda route: route.abort())
    page.goto("/agents/")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate(BACKGROUND) == DARK_BG


@pytest.mark.parametrize(("scheme", "cookie", "expected"), [
    ("dark", None, DARK_BG), ("light", None, LIGHT_BG), ("dark", "light", LIGHT_BG), ("light", "dark", DARK_BG),
])
def test_system_theme_follows_the_device_unless_chosen(signed_in_page, live_server, walker, scheme, cookie, expected):
    page = signed_in_page(walker, "desktop", color_scheme=scheme)
    if cookie:
        page.context.add_cookies([{"name": "theme", "value": cookie, "url": live_server.url}])
    page.goto("/documents/")
    assert page.evaluate(BACKGROUND) == expected


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_home_composer_starts_a_chat_with_the_picked_agent_and_the_answer_appears(signed_in_page, walker, viewport):
    factories.agent(walker, name="Alpha Helper")
    trips = factories.agent(walker, name="Trip Planner", system_prompt="You plan trips.")
    page = signed_in_page(walker, viewport)
    page.goto("/")
    page.get_by_label("Agent").select_option(label="Trip Planner")
    page.get_by_label("Message").fill("Which glaciers should we hike in Patagonia?")
    if viewport == "phone":
        page.get_by_label("Message").press("Enter")
    else:
        page.get_by_role("button", name="Start the conversation").click()
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    page.locator(".msg-assistant:not(.msg-streaming):not(.msg-pending)").last.wait_for()
    answer = page.locator(".msg-assistant .msg-body").last.inner_text()
    assert "offline" in answer.lower()
    assert "Which glaciers should we hike in Patagonia?" in page.locator(".msg-user").first.inner_text()
    with tenant(walker.id):
        conversation = Conversation.objects.get(user=walker)
    assert conversation.agent_id == trips.id
    assert page.url.endswith(f"/chat/{conversation.id}/")
    page.goto("/")
    assert page.locator(f'.recent-list a[href="/chat/{conversation.id}/#latest"]').count() == 1  # opens at the end
    assert page.evaluate(FITS)
    assert page.problems == []


def test_a_starter_prompt_starts_the_chat(signed_in_page, walker):
    factories.agent(walker, name="Helper")
    page = signed_in_page(walker, "phone")
    page.goto("/")
    page.get_by_role("button", name="Help me plan my week").click()
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    assert "Help me plan my week" in page.locator(".msg-user").first.inner_text()
    page.locator(".msg-assistant:not(.msg-streaming):not(.msg-pending)").last.wait_for()
    page.goto("/usage/")  # leave the chat page before the test's database goes away


def test_offline_notice_shows_once_and_stays_dismissed(signed_in_page, walker, settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""
    factories.agent(walker, name="Helper")
    page = signed_in_page(walker, "phone")
    page.goto("/")
    notice = page.get_by_role("region", name="Only the built-in offline model is set up")
    assert notice.is_visible()
    assert "OPENAI_API_KEY" in notice.inner_text()
    assert page.evaluate(FITS)
    page.reload()
    assert notice.is_visible()
    notice.get_by_role("button", name="Dismiss").click()
    page.wait_for_url(re.compile(r"/$"))
    assert notice.count() == 0
    page.goto("/agents/")
    page.goto("/")
    assert notice.count() == 0
    assert page.get_by_label("Message").is_visible()
    assert page.problems == []


def test_desktop_sidebar_stays_in_view_on_short_and_long_pages(signed_in_page, walker):
    agent = factories.agent(walker, name="Helper")
    with tenant(walker.id):
        conversation = factories.conversation(walker, agent_=agent)
        for n in range(30):  # ends with an answer: nothing left to stream when the page opens
            factories.message(walker, conv=conversation, content="A long conversation line. " * 8,
                              role="assistant" if n % 2 else "user")
    page = signed_in_page(walker, "desktop")
    for url in (f"/chat/new/{agent.slug}/", f"/chat/{conversation.id}/", "/usage/"):
        page.goto(url)
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_function("() => window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1")
        topbar_bottom = page.locator(".topbar").bounding_box()["height"]
        first = page.get_by_role("link", name="Chat", exact=True).bounding_box()
        account = page.locator(".account-summary").bounding_box()
        assert first["y"] >= topbar_bottom - 1, url  # not slid under the top bar
        assert account["y"] + account["height"] <= 900 + 1, url  # the account menu is on screen


def test_without_javascript_the_shell_still_works(signed_in_page, walker):
    factories.agent(walker, name="Helper")
    page = signed_in_page(walker, "phone", java_script_enabled=False)
    page.goto("/")
    assert page.get_by_role("navigation", name="Main").is_visible()  # the sidebar sits above the page
    assert page.locator(".nav-toggle").is_hidden() and page.locator(".drawer-close").is_hidden()
    assert page.evaluate(FITS)
    page.locator(".account-summary").click()
    page.get_by_role("radio", name="Dark").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.locator(".account-summary").click()
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.evaluate("document.documentElement.lang") == "es"
    assert "Bienvenido" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("button", name="Ayúdame a planear mi semana").or_(
        page.get_by_role("button", name="Help me plan my week")).click()
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    with tenant(walker.id):
        assert Conversation.objects.filter(user=walker).count() == 1


def test_language_switch_in_the_account_menu_applies_on_change(signed_in_page, walker):
    page = signed_in_page(walker, "desktop")
    page.goto("/agents/")
    page.locator(".account-summary").click()
    with page.expect_navigation():
        page.get_by_label("Language").select_option("es")
    assert page.url.endswith("/agents/")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.get_by_role("navigation", name="Principal").is_visible()
    assert page.evaluate(FITS)
