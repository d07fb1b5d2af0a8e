"""The validation report an auditor reads: every rule, counts, failing examples."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, select_autoescape

from exhub.files import replace_text

TEMPLATE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<title>Validation report {{ run.run_id }}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f4f4f4;text-align:left}.fail{color:#b00020;font-weight:600}.ok{color:#0a7d32}
code{font-size:.9em}
</style></head><body>
<h1>Validation report 校验报告</h1>
<p>Dataset <b>{{ run.dataset }}</b> ({{ run.contract }}) · source <b>{{ run.source }}</b>
 ({{ run.department }}) · stream <b>{{ run.stream }}</b> · run <code>{{ run.run_id }}</code></p>
<table><tr><th>extracted 抽取</th><th>published 发布</th><th>quarantined 隔离</th>
<th>status 状态</th></tr>
<tr><td>{{ run.extracted }}</td><td>{{ run.published }}</td><td>{{ run.quarantined }}</td>
<td class="{{ 'ok' if run.status == 'succeeded' else 'fail' }}">{{ run.status }}</td></tr></table>
<h2>Row rules 行级规则</h2>
<p>exhub checked all {{ run.extracted }} rows; Great Expectations re-checked {{ gx_rows }} of them.</p>
{% if gx_note %}<p class="fail">{{ gx_note }}</p>{% endif %}
<table><tr><th>rule</th><th>exhub failed rows</th><th>GX unexpected</th><th>GX</th>
<th>examples (source position)</th></tr>
{% for r in rules %}<tr><td><code>{{ r.rule_id }}</code></td>
<td class="{{ 'fail' if r.failed else 'ok' }}">{{ r.failed }}</td>
<td>{{ r.gx_unexpected if r.gx_unexpected is not none else '—' }}</td>
<td>{{ r.gx_success if r.gx_success is not none else '—' }}</td>
<td>{% for e in r.examples %}<code>{{ e }}</code><br>{% endfor %}</td></tr>{% endfor %}
</table>
<h2>Dataset rules 数据集规则 (gate)</h2>
<table><tr><th>rule</th><th>passed</th><th>detail</th></tr>
{% for g in gates %}<tr><td><code>{{ g.rule }}</code></td>
<td class="{{ 'ok' if g.passed else 'fail' }}">{{ g.passed }}</td><td>{{ g.detail }}</td></tr>
{% endfor %}</table>
<p>Every quarantined row is in <code>{{ quarantine_path }}</code>
 (<code>exhub quarantine list {{ run.dataset }}</code>).</p>
</body></html>
"""


def write_report(
    folder: Path,
    *,
    run: dict,
    rule_ids: list[str],
    rule_counts: dict[str, int],
    examples: dict[str, list[str]],
    gx_result: dict | None,
    gx_rows: int,
    gates: list[dict],
    quarantine_path: str,
    gx_note: str | None = None,
) -> Path:
    """Write ``validation.json`` (GX's result) and ``validation.html``; return the HTML path.

    Each file is replaced whole (written aside, then renamed): a report is written again
    once Great Expectations finishes, and a reader never sees half of one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    gx_by_rule: dict[str, dict] = {}
    for item in (gx_result or {}).get("results", []):
        rule_id = (item.get("expectation_config", {}).get("meta") or {}).get("rule_id")
        if rule_id:
            gx_by_rule[rule_id] = item
    ordered = list(dict.fromkeys([*rule_ids, *rule_counts]))
    rules = []
    for rule_id in ordered:
        gx_item = gx_by_rule.get(rule_id)
        rules.append(
            {
                "rule_id": rule_id,
                "failed": rule_counts.get(rule_id, 0),
                "gx_unexpected": (gx_item or {}).get("result", {}).get("unexpected_count"),
                "gx_success": gx_item.get("success") if gx_item else None,
                "examples": examples.get(rule_id, []),
            }
        )
    document = {
        "run": run,
        "rule_counts": rule_counts,
        "gates": gates,
        "great_expectations": gx_result,
        "great_expectations_note": gx_note,
    }
    text = json.dumps(document, ensure_ascii=False, indent=1, default=str)
    replace_text(folder / "validation.json", text)
    env = Environment(autoescape=select_autoescape(default=True))
    html = env.from_string(TEMPLATE).render(
        run=run,
        rules=rules,
        gates=gates,
        gx_rows=gx_rows,
        gx_note=gx_note,
        quarantine_path=quarantine_path,
    )
    path = folder / "validation.html"
    replace_text(path, html)
    return path
