def test_login_page_renders_in_chinese(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录网格学堂" in response.get_data(as_text=True)
