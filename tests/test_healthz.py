def test_healthz_is_a_bare_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"


def test_static_urls_carry_a_content_version_and_are_cached_long(client):
    html = client.get("/login").get_data(as_text=True)
    import re
    url = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', html).group(1)
    with client.get(url) as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]
    with client.get("/static/css/app.css") as unversioned:
        assert "max-age=31536000" not in unversioned.headers.get("Cache-Control", "")


def test_offline_page_carries_no_personal_data_even_when_logged_in(api, client, tree):
    from tests.factories import make_user
    make_user("w1", "worker", tree["g1"], name="张小明")
    api.login("w1")
    html = client.get("/offline").get_data(as_text=True)
    assert "当前没有网络" in html and "张小明" not in html and "lms-user" not in html


def test_service_worker_lists_versioned_shell_files(client):
    body = client.get("/sw.js").get_data(as_text=True)
    assert "/static/css/app.css?v=" in body and "__VERSION__" not in body
