"""Values shared by the checks: a finding, an org node, the report."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem, printed as ``path:line: reason``; ``kind`` names the check (see CHECK_LABELS)."""

    path: str
    line: int
    kind: str
    reason: str
    blocking: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclasses.dataclass(frozen=True)
class OrgNode:
    code: str
    parent: str | None
    kind: str  # OrgKind value: county, township, village, grid, …


@dataclasses.dataclass
class Report:
    findings: list[Finding] = dataclasses.field(default_factory=list)
    #: label -> figure, for the summary table (e.g. "应试技巧猜题得分（quiz-safety）": "41%")
    figures: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        return counts
