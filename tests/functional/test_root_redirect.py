"""``/`` sends a person to the Dutch web interface instead of answering an API 404."""


def test_root_redirects_to_the_web_interface(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/ui/"


def test_the_web_interface_then_asks_a_stranger_to_log_in(client):
    ui = client.get(client.get("/").headers["Location"])
    assert ui.status_code == 302
    assert ui.headers["Location"].startswith("/login")


def test_root_answers_head_and_no_other_method(client):
    assert client.head("/").status_code == 302
    refused = client.post("/")
    assert refused.status_code == 405
