from __future__ import annotations

import re
from typing import Any

from itsm_doctor.report import render_html, render_markdown
from itsm_doctor.report.view import format_value


def test_values_are_shown_in_their_unit() -> None:
    assert format_value(0.1834, "ratio") == "18.3%"
    assert format_value(61.0, "h") == "2.5 d"
    assert format_value(12.25, "h") == "12.2 h"
    assert format_value(1500, "count") == "1,500"
    assert format_value(None, "ratio") == "n/a"


def test_report_has_every_section_and_nothing_external(examination: dict[str, Any], followup: dict[str, Any]) -> None:
    html = render_html(examination, followup=followup)
    for section in ("glance", "diagnoses", "prescriptions", "signs", "process", "maturity", "followup", "intake"):
        assert f'<section id="{section}">' in html
    # self-contained: no scripts, no external URLs other than SVG namespaces
    assert "<script" not in html
    urls = set(re.findall(r"""(?:src|href)\s*=\s*["']([^"'#][^"']*)""", html))
    assert urls == set()
    assert "Content-Security-Policy" in html


def test_data_is_escaped_everywhere(examination: dict[str, Any]) -> None:
    html = render_html(examination)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; printer on fire" in html
    assert "ACME &lt;IT&gt; &amp; Co" in html
    assert "<b>Network</b>" not in html  # group names in the handover chart are text
    assert "incidents&lt;1&gt;.csv" in html


def test_prescriptions_are_grouped_by_sphere_team_first(examination: dict[str, Any]) -> None:
    html = render_html(examination)
    team, department = html.index("<h3>Team</h3>"), html.index("<h3>Department</h3>")
    assert team < department
    assert html.index("Swarm on cross-team tickets") < html.index("Assignment matrix by service &amp; CI")


def test_glance_counts_and_verdict_order(examination: dict[str, Any]) -> None:
    html = render_html(examination)
    glance = html[html.index('<section id="glance">') : html.index('<section id="diagnoses">')]
    assert re.search(r'<div class="big">1</div><div class="label">dysfunctions present', glance)
    assert re.search(r'<div class="big">2</div><div class="label">signs in the poor band', glance)
    assert re.search(r'<div class="big">1,234</div><div class="label">tickets examined', glance)
    assert html.index('id="dx-assignment-ping-pong"') < html.index('id="dx-change-induced-incidents"')


def test_markdown_report(examination: dict[str, Any], followup: dict[str, Any]) -> None:
    md = render_markdown(examination, followup=followup)
    # names where a person reads (a symptom without a name keeps its id), verdict words
    assert "| Assignment ping-pong | present | 91% | Ping-pong rate 18.0%, nobody-owns-it 4.50 |" in md
    assert "| Change-induced incidents | undetermined: not measurable on these records | 50% |  |" in md
    assert "| Ping-pong rate (`incident.ping_pong_rate`) | 18.0% | poor | good ≤ 2.0% · poor ≥ 10.0% |" in md
    assert "| Change success rate (`change.success_rate`) | n/a | n/a | — |" in md
    assert "ACME &lt;IT&gt; &amp; Co" not in md and "ACME &lt;IT&gt;" in md
    # the prescription id `register adopt` takes, beside its title
    assert "- **Assignment matrix by service & CI** (`assignment-matrix`; incident management; effort medium)" in md
    assert (
        "| Assignment matrix by service & CI (`assignment-matrix`) |  | Ping-pong rate | 18.0% | 5.0% "
        "| &lt; 0.001 | healing |" in md
    )
