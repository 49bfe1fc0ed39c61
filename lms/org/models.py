"""Org units with a materialised path, so a subtree is one indexed range scan."""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import PathString
from lms.extensions import db


class OrgKind(enum.StrEnum):
    province = "province"
    city = "city"
    county = "county"
    township = "township"
    village = "village"
    grid = "grid"


KIND_ORDER = list(OrgKind)

KIND_LABELS = {
    OrgKind.province: "省",
    OrgKind.city: "市",
    OrgKind.county: "县（区）",
    OrgKind.township: "乡镇（街道）",
    OrgKind.village: "村（社区）",
    OrgKind.grid: "网格",
}


class GridType(enum.StrEnum):
    urban = "urban"
    rural = "rural"
    mountain = "mountain"
    special = "special"


GRID_TYPE_LABELS = {GridType.urban: "城镇网格", GridType.rural: "农村网格",
                    GridType.mountain: "山区网格", GridType.special: "专属网格"}


class OrgUnit(db.Model):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stable code used in files, URLs and rosters
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[OrgKind] = mapped_column(sa.Enum(OrgKind, native_enum=False, length=16))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: ids from the root down, e.g. "/1/5/23/"; subtree of X = paths starting with X.path
    path: Mapped[str] = mapped_column(PathString, index=True)
    depth: Mapped[int] = mapped_column(default=0)
    #: households served (grids; optional elsewhere)
    households: Mapped[int | None]
    grid_type: Mapped[GridType | None] = mapped_column(sa.Enum(GridType, native_enum=False, length=16))

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent", order_by="OrgUnit.code")

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def is_within(self, ancestor: OrgUnit) -> bool:
        """True when self is ancestor or lies below it."""
        return self.path.startswith(ancestor.path)


def subtree_clause(path_column, prefix: str):
    """SQL condition: path_column lies in the subtree whose path is prefix.

    A range instead of LIKE: both SQLite and PostgreSQL use the b-tree index
    for it; '~' sorts after the digits and '/' that paths are made of.
    """
    return sa.and_(path_column >= prefix, path_column < prefix + "~")
