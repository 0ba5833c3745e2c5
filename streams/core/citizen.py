"""Citizens' Open311 reports in the decision core: each is decided as a grid report of its category.

:func:`as_grid_report` is the whole of the core's handling: the runner turns a
:class:`~schemas.messages.CitizenReport` into the :class:`~schemas.messages.GridReport` the rules already
know (same event id, grid, time, place, category and text; no parties or injuries claimed; no severity
hint), so classification, merging and escalation apply unchanged. The reporter is the Open311 desk, never
the citizen: the citizen's contact travels only as ``contact_ref`` and stops here.
"""

from __future__ import annotations

from schemas.messages import CitizenReport, GridReport, Reporter

# The Open311 desk as the reporting party; its number is a placeholder in the contract's format, not a
# person's (the contract requires a mainland mobile number for every reporter).
OPEN311_DESK = Reporter(id="open311", phone="13000000000")


def as_grid_report(report: CitizenReport) -> GridReport:
    """The grid report the rules decide a citizen's report as."""
    return GridReport(
        status=report.status,
        event_id=report.event_id,
        grid_code=report.grid_code,
        occurred_at=report.reported_at,
        reported_at=report.reported_at,
        location=report.location,
        category=report.category,
        description=report.description,
        parties=0,
        injured=0,
        reporter=OPEN311_DESK,
        severity_hint=None,
    )
