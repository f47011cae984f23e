def test_login_page_renders(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Sign In" in response.content or b"Sign in" in response.content


def test_home_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302


def test_home_for_user(owner_client):
    response = owner_client.get("/")
    assert response.status_code == 200
    assert "Welcome" in response.content.decode()
