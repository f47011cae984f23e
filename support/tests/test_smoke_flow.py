import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_open_a_ticket_and_see_it(owner_client, owner, publish, django_capture_on_commit_callbacks):
    publish("Reset your password", "Open Settings, choose Security and press **Reset password**. A link arrives by email.")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("support:new"), {"title": "I forgot my password",
                                                              "description": "How do I reset my password?",
                                                              "category": "ACCOUNT"})
    assert response.status_code == 302, response.content.decode()[:3000]
    page = owner_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "T-0" in html and "I forgot my password" in html
