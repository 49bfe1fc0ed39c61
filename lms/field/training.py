"""Training needs, remediation, outcomes and field points (issue #19 items 3–5): wired into the app by
lms.field.init_app."""
from __future__ import annotations

import click


def init_app(app):
    """Register the tables, the content importer, the pages, the API routes, nav/home entries and
    `flask --app lms field points`."""
    from lms.contentsync import register_importer
    from lms.field import remediation_models, training_api, training_views  # noqa: F401  (tables; API routes)
    from lms.field.needs import import_field_needs

    app.config.setdefault("FIELD_APP_COURSE", "county-event-reporting")
    # the 上报演练 list (lms.drills, an earlier feature) puts the drills of a worker's own field problems first
    from lms.field.remediation import drill_order_key
    app.extensions["drill_order_key"] = drill_order_key
    # `flask --app lms tasks run` (lms.certification) also feeds the 积分 ledger from newly imported events
    app.extensions.setdefault("periodic_tasks", []).append(("field_points", "现场上报积分", _field_points_task))
    register_importer(70, "field_needs", import_field_needs)
    app.register_blueprint(training_views.bp)
    training_views.register_home()
    _add_points_command()


def _field_points_task(now) -> int:
    from lms.accounts.permissions import SYSTEM
    from lms.field.points import award_field_points

    return award_field_points(now=now, actor=SYSTEM)["entries"]


def _add_points_command():
    from lms.clikit import transactional
    from lms.field.cli import field_cli

    if "points" in field_cli.commands:
        return

    @field_cli.command("points")
    @transactional
    def points_command():
        """Feed the 积分 ledger from the imported events (each 事件编号 once; safe to run again)."""
        from lms.accounts.permissions import SYSTEM
        from lms.field.points import award_field_points

        result = award_field_points(actor=SYSTEM)
        click.echo(f"现场上报积分：新记入 {result['entries']} 条，涉及 {result['people']} 人")
