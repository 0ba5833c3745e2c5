"""The analyst summary's text: the labels, percentages, n/a for empty ratios, and a parseable layout."""

from __future__ import annotations

import re

from gridflow.demo.figures import Summary, format_summary, summary_rows

SUMMARY = Summary(
    intake_events=12345,
    incidents=300,
    transitions=900,
    settled=70,
    settled_at_village=0.8857,
    settled_at_township=0.9286,
    push_up_rate=0.0945,
    county_city_share=None,
    reopen_rate=0.0,
    escalated_to_county=12,
    escalated_to_city=22,
    escalation_reasons={"sla_breach": 1234, "cluster": 0},
    sla_compliance={1: 0.98, 2: None, 3: 1.0, 4: 1.0, 5: 0.1364},
    mediated=1200,
    litigated=150,
    arbitrated=10,
    mediation_share=0.8824,
)


def test_summary_formats_counts_percentages_and_missing_ratios() -> None:
    rows = dict(summary_rows(SUMMARY))
    assert rows["intake events"] == "12,345"
    assert rows["小事不出村 settled at grid/village"] == "88.57%"
    assert rows["大事不出镇 settled at or below township"] == "92.86%"
    assert rows["上交率 pushed up to county/city"] == "9.45%"
    assert rows["at county/city (any route)"] == "n/a"
    assert rows["reopen rate"] == "0.00%"
    assert rows["SLA compliance L2 village"] == "n/a"
    assert rows["SLA compliance L5 city"] == "13.64%"
    assert rows["transitions for sla_breach"] == "1,234"
    assert rows["transitions for cluster"] == "0"
    assert rows["多元化解 disputes settled by mediation"] == "1,200"
    assert rows["disputes judged by a court (诉调对接)"] == "150"
    assert rows["mediation share (司法一元 → 社会多元)"] == "88.24%"


def test_each_printed_line_splits_into_label_and_value() -> None:
    lines = format_summary(SUMMARY)
    assert lines[0].startswith("analyst summary")
    parsed = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in lines[1:])
    assert parsed == dict(summary_rows(SUMMARY))


def test_values_line_up_on_a_terminal_whatever_the_labels_script() -> None:
    # A Chinese character takes two terminal cells: padding by characters would push those values right.
    from rich.cells import cell_len

    lines = format_summary(SUMMARY)[1:]
    columns = {
        cell_len(line) - cell_len(value)
        for line, (_, value) in zip(lines, summary_rows(SUMMARY), strict=True)
    }

    assert len(columns) == 1, columns
