import sqlalchemy as sa

from lms.errors import ValidationError
from lms.extensions import db
from lms.inbox.models import Message
from lms.inbox.services import post
from tests.factories import make_user


def test_posting_with_a_dedupe_key_is_idempotent(app, tree):
    user = make_user("w1", "worker", tree["g1"])
    first = post(user, kind="certificate_expiring", title="证书将于 30 天后到期", dedupe_key="cert-1-30")
    again = post(user, kind="certificate_expiring", title="证书将于 30 天后到期", dedupe_key="cert-1-30")
    db.session.commit()
    assert first.id == again.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_links_must_stay_on_site(app, tree):
    user = make_user("w1", "worker", tree["g1"])
    for bad in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        try:
            post(user, kind="x", title="t", link=bad)
            raise AssertionError(f"accepted {bad}")
        except ValidationError as exc:
            assert "本站" in exc.message


def test_api_lists_only_my_messages_and_marks_them_read(api, tree):
    me = make_user("w1", "worker", tree["g1"])
    other = make_user("w2", "worker", tree["g1"])
    post(me, kind="drill_returned", title="演练报告被退回", body="请补充地点", link="/drills/noise")
    post(other, kind="drill_returned", title="别人的消息")
    db.session.commit()
    api.login("w1")
    body = api.get("/api/v1/inbox").get_json()
    assert [m["title"] for m in body["messages"]] == ["演练报告被退回"]
    assert body["unread"] == 1 and body["next"] is None
    assert api.post("/api/v1/inbox/read", json={"ids": "all"}).status_code == 400
    assert api.post("/api/v1/inbox/read", json={}).get_json() == {"marked": 1}
    assert api.get("/api/v1/inbox").get_json()["unread"] == 0


def test_inbox_page_shows_unread_badge(api, client, tree):
    me = make_user("w1", "worker", tree["g1"])
    post(me, kind="course_due", title="《网格员职责》将于 3 天后到期")
    db.session.commit()
    api.login("w1")
    html = client.get("/inbox").get_data(as_text=True)
    assert "1 条未读" in html and "《网格员职责》将于 3 天后到期" in html


def test_a_garbled_page_number_shows_the_first_page_and_an_impossible_one_says_why(api, client, tree):
    make_user("w1", "worker", tree["g1"])
    api.login("w1")
    for page in ("abc", "0"):
        assert client.get(f"/inbox?page={page}").status_code == 200
    # API.md (Additions, Accounts): a negative page or one beyond 10^6 is 400, never a 500 further down
    for page in ("-3", "99999999999999999999"):
        response = client.get(f"/inbox?page={page}")
        assert response.status_code == 400 and "页码超出范围" in response.get_data(as_text=True)


def _badge(html: str) -> str | None:
    import re
    match = re.search(r'data-nav-badge>(\d+)<', html)
    return match.group(1) if match else None


def test_the_menu_shows_the_unread_count_on_every_page_and_it_falls_as_messages_are_read(api, client, tree):
    me = make_user("w1", "worker", tree["g1"])
    other = make_user("w2", "worker", tree["g1"])
    for i in range(3):
        post(me, kind="course_due", title=f"通知{i}")
    post(other, kind="course_due", title="别人的通知")
    db.session.commit()
    api.login("w1")
    for url in ("/", "/inbox", "/drills"):
        html = client.get(url).get_data(as_text=True)
        assert _badge(html) == "3", url
        assert "data-nav-badge-toggler>3<" in html and "展开菜单，3 条未读消息" in html  # the phone menu button
    first = db.session.scalar(sa.select(Message.id).where(Message.user_id == me.id).order_by(Message.id))
    api.post("/api/v1/inbox/read", json={"ids": [first]})
    assert _badge(client.get("/").get_data(as_text=True)) == "2"
    api.post("/api/v1/inbox/read", json={})
    html = client.get("/").get_data(as_text=True)
    assert _badge(html) is None and "data-nav-badge-toggler" not in html


def test_the_unread_badge_costs_no_statement_of_its_own(api, client, tree):
    from tests.courses.test_hot_paths import statements

    me = make_user("w1", "worker", tree["g1"])
    api.login("w1")
    client.get("/inbox")
    with statements() as without:
        client.get("/inbox")
    post(me, kind="course_due", title="通知")
    db.session.commit()
    with statements() as with_one:
        html = client.get("/inbox").get_data(as_text=True)
    assert _badge(html) == "1"
    assert len(with_one) == len(without)
    assert any("inbox_unread" in s and "user_sessions" in s for s in with_one)  # rides on the session's statement
