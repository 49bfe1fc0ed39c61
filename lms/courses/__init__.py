"""courses feature (see ../shared/DESIGN.md): curriculum import, catalog, reader, authoring, assignments."""


def init_app(app):
    from flask import url_for

    from lms.accounts.permissions import Permission, has_permission
    from lms.contentsync import register_importer
    from lms.courses import api, importer, models, queries, services, views  # noqa: F401  (models, routes register)
    from lms.home import register_nav, register_section
    from lms.signals import quiz_passed

    from lms.web import cached_url, offline_capable

    app.register_blueprint(views.bp)
    from lms.courses.cards import course_card_html
    app.add_template_global(course_card_html)
    # Assigned lessons stay readable on the walk between villages once opened.
    offline_capable("courses.learning", "courses.course", "courses.lesson", "courses.asset")
    register_importer(40, "courses", importer.import_courses)
    quiz_passed.connect(services.on_quiz_passed)

    def learns(user):
        return has_permission(user, Permission.LEARN)

    register_nav(20, "我的学习", "courses.learning", learns)
    register_nav(25, "课程", "courses.catalog", lambda user: True)
    register_nav(60, "课程编写", "courses.author_list", lambda user: has_permission(user, Permission.AUTHOR_CONTENT),
                 group="manage")

    def learning_section(user):
        if not learns(user):
            return None
        cards = queries.my_learning(user, api.today())[:3]
        tiles = []
        for card in cards:
            state = "已完成" if card["complete"] else f"已学 {card['done']}/{card['total']} 课"
            due = f" · 截止 {card['due']:%m月%d日}" + ("（已逾期）" if card["overdue"] else "") if card["due"] else ""
            tiles.append({"label": card["course"].title, "url": cached_url("courses.course", code=card["course"].code),
                          "description": state + due})
        tiles.append({"label": "我的学习", "url": cached_url("courses.learning"),
                      "description": "指派给我的课程、截止日期和进度"})
        tiles.append({"label": "课程目录", "url": cached_url("courses.catalog"), "description": "县训、乡培、村练"})
        return {"title": "学习", "tiles": tiles}

    def authoring_section(user):
        if not has_permission(user, Permission.AUTHOR_CONTENT):
            return None
        tiles = [{"label": "课程编写", "url": url_for("courses.author_list"),
                  "description": "编写课程和课时，上传图片，发布"}]
        if has_permission(user, Permission.ASSIGN):
            tiles.append({"label": "指派学习任务", "url": url_for("courses.assignments"),
                          "description": "把课程或测验指派给组织，设截止日期"})
        return {"title": "培训管理", "tiles": tiles}

    register_section(20, learning_section)
    register_section(60, authoring_section)
