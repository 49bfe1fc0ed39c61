"""Course cards as HTML, remembered per process.

My learning and the catalog show tens of cards per page and rendering them was a third of those pages' CPU.
A card's HTML is a pure function of the values in its key (the course row, the learner's progress and due
date, the resume link), and most learners share those values, so a card is rendered once per distinct key.
"""
from __future__ import annotations

from flask import current_app, request
from markupsafe import Markup

from lms.courses.queries import CardCourse

_CARDS: dict[tuple, Markup] = {}
_MAX_CARDS = 4096


def course_card_html(card: dict, resume_url: str | None = None) -> Markup:
    """The course_card macro of courses/_card.html for card (from queries.visible_cards)."""
    app = current_app._get_current_object()  # one context lookup per card, not one per attribute
    macro = app.extensions.get("lms.course_card")
    if macro is None or app.debug or app.jinja_env.auto_reload:
        macro = app.jinja_env.get_template("courses/_card.html").module.course_card
        if app.debug or app.jinja_env.auto_reload:
            return macro(card, resume_url)
        app.extensions["lms.course_card"] = macro
    course = card["course"]
    if not isinstance(course, CardCourse):
        return macro(card, resume_url)
    key = (request.script_root, course.id, course.code, course.title, course.level, course.hours,
           tuple(course.tags or ()), course.org_name, course.version, course.updated_at, card["done"], card["total"],
           card["complete"], card["started"], card["due"], card["overdue"], resume_url)
    html = _CARDS.get(key)
    if html is None:
        html = macro(card, resume_url)
        if len(_CARDS) >= _MAX_CARDS:
            _CARDS.clear()
        _CARDS[key] = html
    return html
