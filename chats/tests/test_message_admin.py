"""Staff read messages in the admin but cannot rewrite what was said or the stored HTML."""

import re

import pytest

from chats.models import Message
from core.tenancy import tenant
from testutils import factories

pytestmark = pytest.mark.django_db


def test_message_content_and_metadata_are_read_only_in_the_admin(staff_client, owner):
    message = factories.make("messages", owner)
    with tenant(owner.id):
        Message.objects.filter(pk=message.pk).update(metadata={"html": "<p>hello <b>world</b></p>"})
    url = f"/admin/chats/message/{message.pk}/change/"
    page = staff_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r'<(?:input|textarea|select)[^>]*name="(?:content|metadata|role|conversation)"', html)
    assert "&lt;b&gt;world&lt;/b&gt;" in html and "<b>world</b>" not in html  # shown, escaped, never rendered
    response = staff_client.post(url, {
        "conversation": str(message.conversation_id), "role": "assistant",
        "content": "rewritten", "metadata": '{"html": "<img src=x onerror=alert(1)>"}',
        "tokens_input": "0", "tokens_output": "0",
    })
    assert response.status_code == 403
    assert staff_client.get("/admin/chats/message/add/").status_code == 403
    with tenant(owner.id):
        message.refresh_from_db()
    assert (message.content, message.role, message.metadata) == ("hello world", "user", {"html": "<p>hello <b>world</b></p>"})
