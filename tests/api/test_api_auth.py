"""Login, sessions and rate limiting through the real HTTP routes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD

Headers = Callable[[str], dict[str, str]]


def test_health_answers_without_login(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_login_returns_a_bearer_token_and_a_cookie(client: TestClient, user_ids: dict[str, int]) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "trainer", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["role"] == "trainer"
    assert "password_hash" not in body["user"]
    cookie = response.cookies.get("fablab_session")
    assert cookie == body["token"]
    # the cookie alone authenticates the web pages
    assert client.get("/api/v1/auth/me").json()["username"] == "trainer"
    client.cookies.clear()
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["id"] == user_ids["trainer"]


def test_wrong_password_is_401_in_the_requested_language(
    client: TestClient, user_ids: dict[str, int]
) -> None:
    bad = {"username": "trainer", "password": "wrong password"}
    french = client.post("/api/v1/auth/login", json=bad)
    assert french.status_code == 401
    assert french.json()["code"] == "BAD_CREDENTIALS"
    assert "mot de passe" in french.json()["message"]
    english = client.post("/api/v1/auth/login", json=bad, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.json()["code"] == "BAD_CREDENTIALS"
    assert "password" in english.json()["message"]


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(
    client: TestClient, user_ids: dict[str, int]
) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "whatever1"})
    assert response.status_code == 401
    assert response.json()["code"] == "BAD_CREDENTIALS"


def test_login_is_rate_limited(client: TestClient, user_ids: dict[str, int]) -> None:
    bad = {"username": "tigiste", "password": "guess-guess"}
    codes = [client.post("/api/v1/auth/login", json=bad).status_code for _ in range(5)]
    assert codes == [401] * 5
    blocked = client.post("/api/v1/auth/login", json={"username": "tigiste", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "LOGIN_RATE_LIMITED"
    assert int(blocked.headers["Retry-After"]) > 0


def test_logout_revokes_the_token(client: TestClient, headers: Headers) -> None:
    auth = headers("operator")
    assert client.get("/api/v1/auth/me", headers=auth).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    after = client.get("/api/v1/auth/me", headers=auth)
    assert after.status_code == 401
    assert after.json()["code"] == "SESSION_INVALID"


def test_no_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/jobs")
    assert response.status_code == 401
    assert response.json()["code"] == "NOT_AUTHENTICATED"


def test_a_deactivated_account_loses_its_session(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    tigiste = headers("tigiste")
    assert (
        client.delete(f"/api/v1/users/{user_ids['tigiste']}", headers=headers("trainer")).status_code == 204
    )
    assert client.get("/api/v1/auth/me", headers=tigiste).status_code == 401
    again = client.post("/api/v1/auth/login", json={"username": "tigiste", "password": PASSWORD})
    assert again.status_code == 401
