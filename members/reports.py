"""The renewal and retention report: counted in SQL, a handful of GROUP BY queries."""

from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _

from .models import (
    Category,
    EndReason,
    Membership,
    MembershipKind,
    MembershipRenewal,
    MembershipStatus,
)
from .regions import REGIONS, region_name, region_of


@dataclass
class YearRow:
    year: int
    joins: int = 0
    renewals: int = 0
    exits: int = 0
    exits_by_reason: dict[str, int] = field(default_factory=dict)
    # General memberships that ended on their renewal date instead of renewing.
    not_renewed: int = 0

    @property
    def came_up(self) -> int:
        """General memberships whose renewal date fell in the year: renewed, or ended then."""
        return self.renewals + self.not_renewed

    @property
    def renewal_rate(self) -> float | None:
        """Renewals ÷ memberships that came up for renewal, in percent; None when none did."""
        if not self.came_up:
            return None
        return round(100 * self.renewals / self.came_up, 1)


@dataclass
class Report:
    by_status: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    by_region: list[tuple[str, int]]
    years: list[YearRow]
    current_total: int

    def chart_data(self) -> dict:
        """What the chart draws, the same numbers as the table, for json_script."""
        return {
            "labels": [str(row.year) for row in self.years],
            "series": [
                {"label": _("Joins"), "data": [row.joins for row in self.years]},
                {"label": _("Renewals"), "data": [row.renewals for row in self.years]},
                {"label": _("Exits"), "data": [row.exits for row in self.years]},
            ],
            "rate": {
                "label": _("Renewal rate (%)"),
                "data": [row.renewal_rate for row in self.years],
            },
        }


def _status_label(status: str, end_reason: str, kind: str) -> str:
    if status == MembershipStatus.ACTIVE:
        return str(MembershipKind(kind).label)
    return str(EndReason(end_reason).label) if end_reason else str(MembershipStatus(status).label)


def membership_report() -> Report:
    memberships = Membership.objects.order_by()
    current = memberships.current()

    status_rows = (
        memberships.values("status", "end_reason", "kind")
        .annotate(n=Count("pk"))
        .order_by("status", "kind", "end_reason")
    )
    by_status: dict[str, int] = {}
    for row in status_rows:
        label = _status_label(row["status"], row["end_reason"], row["kind"])
        if row["status"] == MembershipStatus.ACTIVE:
            label = _("Current: %(kind)s") % {"kind": label}
        else:
            label = _("Ended: %(reason)s") % {"reason": label}
        by_status[label] = by_status.get(label, 0) + row["n"]

    # One GROUP BY (category, country): a few hundred rows at most, summed per category and per
    # region here (a CASE over every country in SQL costs more than it saves).
    category_counts: dict[str | None, int] = {}
    region_counts: dict[str, int] = {}
    placed = current.values("organisation__category", "organisation__country").annotate(
        n=Count("pk")
    )
    for group in placed:
        category = group["organisation__category"]
        region = region_of(group["organisation__country"] or "")
        category_counts[category] = category_counts.get(category, 0) + group["n"]
        region_counts[region] = region_counts.get(region, 0) + group["n"]
    by_category = [(str(c.label), category_counts.get(c.value, 0)) for c in Category]
    if category_counts.get(None):
        by_category.append((_("Honorary members in their own name"), category_counts[None]))
    by_region = [(region_name(r), region_counts.get(r, 0)) for r in REGIONS]
    if region_counts.get(""):
        by_region.append((_("No region (a person, or Antarctica)"), region_counts[""]))

    years: dict[int, YearRow] = {}

    def year(value: int) -> YearRow:
        return years.setdefault(value, YearRow(year=value))

    joins = memberships.values(y=ExtractYear("started_on")).annotate(n=Count("pk"))
    for joined in joins:
        year(joined["y"]).joins = joined["n"]
    renewals = MembershipRenewal.objects.order_by().values(y=ExtractYear("period_start"))
    for renewed in renewals.annotate(n=Count("pk")):
        year(renewed["y"]).renewals = renewed["n"]
    ended = (
        memberships.filter(status=MembershipStatus.ENDED)
        .values("end_reason", y=ExtractYear("ended_on"))
        .annotate(
            n=Count("pk"),
            at_renewal=Count(
                "pk",
                filter=Q(kind=MembershipKind.GENERAL, ended_on__gte=F("period_end")),
            ),
        )
    )
    for exit_row in ended:
        entry = year(exit_row["y"])
        entry.exits += exit_row["n"]
        reason = str(EndReason(exit_row["end_reason"]).label)
        entry.exits_by_reason[reason] = entry.exits_by_reason.get(reason, 0) + exit_row["n"]
        entry.not_renewed += exit_row["at_renewal"]

    return Report(
        by_status=sorted(by_status.items()),
        by_category=by_category,
        by_region=by_region,
        years=[years[y] for y in sorted(years)],
        current_total=sum(category_counts.values()),
    )
