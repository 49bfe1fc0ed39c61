"""Points for an accepted drill report are paid once per drill and person, however often it is resubmitted."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from lms.drills import queries as drill_queries
from lms.drills import services as drill_services
from lms.drills.models import Verdict
from lms.extensions import db
from lms.points import services
from lms.points.models import PointEntry, PointKind
from lms.points.queries import total_points
from tests.drills.factories import NOISE, import_noise, model_report
from tests.factories import make_user

NOW = dt.datetime(2026, 6, 3, 2, 0, tzinfo=dt.timezone.utc)


def test_resubmitting_an_accepted_drill_earns_no_more_points(tree, tmp_path):
    services.set_point_rules({"drill_accepted": 3}, now=NOW)
    import_noise(tmp_path)
    worker = make_user("w-once", "worker", tree["g1"])
    other = make_user("w-other", "worker", tree["g1"])
    drill = drill_queries.get_drill(NOISE)
    verdicts = []
    for i in range(4):
        report, _ = drill_services.submit_report(worker, drill, model_report(), now=NOW + dt.timedelta(hours=i))
        verdicts.append(report.verdict)
    drill_services.submit_report(other, drill, model_report(), now=NOW)
    db.session.commit()
    assert verdicts == [Verdict.accepted] * 4
    entries = list(db.session.scalars(sa.select(PointEntry).where(PointEntry.user_id == worker.id,
                                                                  PointEntry.kind == PointKind.drill_accepted)))
    assert [(e.points, e.source_type, e.source_id) for e in entries] == [(3, "drill", str(drill.id))]
    assert total_points(worker) == 3 and total_points(other) == 3
    assert drill_queries.accepted_count(worker) == 1
