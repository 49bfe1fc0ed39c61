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
