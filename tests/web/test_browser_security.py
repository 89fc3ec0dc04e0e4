"""Security in a real browser against a real server: markup carried by an uploaded export
stays text on every page a member can reach, and the Content-Security-Policy stops inline
script even if some markup ever got through.

The unit-level checks (escaping in the HTML, CSRF, scoping, throttling) are in test_auth.py
and test_scoping.py; these need Chromium to show that nothing *runs*: no dialog opens, no
inline script or event-handler element exists in any page's DOM.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

Live = Any  # the ``live`` fixture of conftest.py
SAMPLE = Path("servicenow-sample") / "incident_event_log.sample.csv.gz"

GROUP = "<script>alert('group')</script>Desk"
CATEGORY = "<img src=x onerror=alert('category')>Network"
FILENAME = "<svg onload=alert('file')>export.csv"

# What a page's DOM must not hold: a script without src (ours are all files), an element with an
# on* handler attribute, the payloads' own elements.
DOM_PROBE = """
() => {
  const all = Array.from(document.querySelectorAll('*'));
  return {
    inlineScripts: document.querySelectorAll('script:not([src])').length,
    handlers: all.filter(e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).map(e => e.outerHTML),
    payloadElements: document.querySelectorAll('img[src="x"], svg[onload]').length,
    text: document.body.innerText,
  };
}
"""


def poisoned_export(folder: Path, source: Path) -> Path:
    """The first 40 incidents of the ServiceNow sample with a <script> in every assignment
    group and an <img onerror> in every category; one event moved before its ticket's
    creation so the intake quarantines it and shows the row (payloads included) as an example."""
    with gzip.open(source, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows, numbers = [], []
        for row in reader:
            if row["number"] not in numbers:
                if len(numbers) == 40:
                    break
                numbers.append(row["number"])
            rows.append(row)
    for row in rows:
        row["assignment_group"], row["category"] = GROUP, CATEGORY
    late = dict(rows[-1])
    late["sys_updated_at"] = "1/1/2015 00:00"
    rows.append(late)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = folder / FILENAME
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def walk(page: Any, base: str, start: str, limit: int = 150) -> dict[str, tuple[int, dict[str, Any]]]:
    """Every page of this site reachable by links from ``start`` (GET only: forms are not sent),
    with its status and what DOM_PROBE saw."""
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    todo = deque([start])
    while todo and len(seen) < limit:
        path = todo.popleft()
        if path in seen:
            continue
        head = page.request.get(base + path)
        if "attachment" in head.headers.get("content-disposition", ""):  # a download: never rendered as a page
            seen[path] = (head.status, {"download": head.headers["content-disposition"]})
            continue
        response = page.goto(base + path)
        page.wait_for_load_state("load")
        seen[path] = (response.status if response else 0, page.evaluate(DOM_PROBE))
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urlsplit(urljoin(base + path, href))
            if f"{target.scheme}://{target.netloc}" != base or target.path.startswith("/static/"):
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link not in seen:
                todo.append(link)
    return seen


@pytest.fixture()
def signed_in_owner(live: Live, chromium: Any) -> Any:
    user = live.store.user_by_email(email=live.admin_email)
    org = live.store.create_organisation(slug="acme", name="Acme")
    live.store.add_member(user_id=user.id, organisation_id=org.id, role="owner")
    context = chromium.new_context()
    page = context.new_page()
    page.goto(live.url + "/login")
    page.fill("input[name=email]", live.admin_email)
    page.fill("input[name=password]", live.password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(live.url + "/")
    yield page
    context.close()


def test_markup_in_an_uploaded_export_stays_text_on_every_page(
    live: Live, signed_in_owner: Any, data: Path, tmp_path: Path
) -> None:
    if not (data / SAMPLE).is_file():
        pytest.skip(f"the ServiceNow sample is missing at {data / SAMPLE}")
    page = signed_in_owner
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    export = poisoned_export(tmp_path, data / SAMPLE)

    page.goto(live.url + "/o/acme/uploads")
    page.set_input_files("input[name=files]", str(export))
    page.click("button:has-text('Upload')")
    page.wait_for_url(re.compile(r".*/examinations/new\?upload=\d+$"))
    assert page.locator("select[name=source]").input_value() == "servicenow"
    page.fill("input[name=patient]", "poisoned")
    page.click("button:has-text('Start the examination')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    page.wait_for_selector("#job-status.status-done", timeout=180_000)

    pages = walk(page, live.url, "/")
    walked = {p for p, (status, _) in pages.items() if status == 200}
    assert {"/", "/o/acme", "/o/acme/uploads", "/o/acme/jobs"} <= walked
    assert any(re.fullmatch(r"/o/acme/jobs/\d+", p) for p in walked)
    assert any(re.fullmatch(r"/o/acme/examinations/new\?upload=\d+", p) for p in walked)
    downloads = {p for p, (_s, probe) in pages.items() if "download" in probe}
    assert any(p.endswith("/report.html") for p in downloads) and any(p.endswith(".json") for p in downloads)
    for path, (_status, probe) in pages.items():
        if path in downloads:
            continue
        assert probe["inlineScripts"] == 0, path
        assert probe["handlers"] == [], path
        assert probe["payloadElements"] == 0, path
    assert dialogs == []
    # and the markup is there to read, as text: the file name where uploads are listed, the
    # quarantined row on the examination's page (its record is cut before the group), the groups in the reports
    shown = {path: probe["text"] for path, (_s, probe) in pages.items() if path not in downloads}
    assert FILENAME in shown["/o/acme/uploads"]
    job_text = next(text for path, text in shown.items() if re.fullmatch(r"/o/acme/jobs/\d+", path))
    assert FILENAME in job_text, job_text
    assert CATEGORY in job_text, job_text
    assert "event_before_creation: 1" in job_text
    # the group names as text in the visit's report and the follow-up's (their breakdowns by group)
    with_group = [re.sub(r"/visits/[0-9a-f]+/", "/visits/ID/", p) for p, text in shown.items() if GROUP in text]
    assert sorted(with_group) == ["/o/acme/patients/poisoned/followup/report", "/o/acme/visits/ID/report"]
    assert len(walked) >= 17  # every page of the patient's file, the questionnaire and the portfolio


def test_the_content_security_policy_stops_inline_script(live: Live, chromium: Any) -> None:
    """Inline script put into a page of the app (as an injection would) does not run, and the
    browser reports the violation of script-src; the app's own script file still loads."""
    context = chromium.new_context()
    page = context.new_page()
    response = page.goto(live.url + "/login")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    outcome = page.evaluate(
        """() => new Promise(resolve => {
          const violations = [];
          document.addEventListener('securitypolicyviolation', e => violations.push(e.effectiveDirective));
          const s = document.createElement('script');
          s.textContent = 'window.__injected = true;';
          document.body.appendChild(s);
          const d = document.createElement('div');
          d.innerHTML = '<img src="data:,x" onerror="window.__handler = true">';
          document.body.appendChild(d);
          setTimeout(() => resolve({
            injected: window.__injected === true, handler: window.__handler === true, violations,
          }), 500);
        })"""
    )
    assert outcome["injected"] is False
    assert outcome["handler"] is False
    assert "script-src-elem" in outcome["violations"] and "script-src-attr" in outcome["violations"]
    # the one script of the app is a file of the package, allowed by 'self'
    script = page.evaluate("() => fetch('/static/app.js').then(r => r.status)")
    assert script == 200
    context.close()
