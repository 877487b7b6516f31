from tests.support.harness import ServerProcess


def test_sign_in_me_logout_round_trip(server: ServerProcess, new_session) -> None:
    client = new_session(server)
    assert client.get("/v1/auth/me").status_code == 200
    csrf = client.cookies["nl_csrf"]
    assert client.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf}).json() == {"ok": True}
    assert client.get("/v1/auth/me").status_code == 401
