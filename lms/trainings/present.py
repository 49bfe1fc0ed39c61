"""What the session page shows of its paperwork: materials, the evaluation's invitation, links for the trainer."""
from __future__ import annotations

from flask import url_for

from lms.db import local, utcnow
from lms.trainings import paperwork
from lms.trainings.models import MaterialKind, Training


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def material_rows(training: Training) -> list[dict]:
    rows = []
    for material in paperwork.list_materials(training):
        row = {"id": material.id, "title": material.title, "kind": material.kind.value,
               "delete_url": url_for("trainings.material_delete", training_id=training.id, material_id=material.id)}
        if material.kind is MaterialKind.file:
            row.update(url=url_for("trainings.material_file", training_id=training.id, material_id=material.id),
                       note=f"{material.filename} · {_size(material.size)}")
        else:
            target = paperwork.material_link(material)
            row.update(url=url_for("courses.lesson", code=target[0], slug=target[1]) if target else None,
                       note="课程章节" if target else "该课程章节已下线")
        rows.append(row)
    return rows


def paperwork_context(user, training: Training) -> dict:
    """Materials for everyone who sees the page; the evaluation state for an attendee; the trainer's links."""
    state = paperwork.evaluation_state(user, training)
    opens, closes = paperwork.evaluation_window(training)
    return {
        "materials": material_rows(training),
        "evaluation": {"state": state, "message": paperwork.STATE_MESSAGES.get(state, ""),
                       "url": url_for("trainings.evaluation", training_id=training.id),
                       "window": f"{local(opens):%m-%d %H:%M} 至 {local(closes):%m-%d %H:%M}"},
        "manages_paperwork": paperwork.manages(user, training),
        "sees_results": paperwork.sees_results(user, training),
        "may_export": paperwork.may_export(user, training),
        "now": utcnow(),
    }
