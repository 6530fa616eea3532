"""The performance report: one Markdown table (printed, and written to var/bench.md) and its JSON twin."""

import json
from dataclasses import asdict
from pathlib import Path

from demo.bench.lines import Line

VERDICT = {True: "✅ atteint", False: "❌ MANQUÉ", None: "—"}


def report_markdown(lines: list[Line], *, heading: str) -> str:
    rows = [
        f"| {line.number} | {line.name} | {line.figure} | {line.target} | {VERDICT[line.passed]} | {line.detail} |"
        for line in lines
    ]
    return "\n".join(
        [
            f"## {heading}",
            "",
            "| Ligne | Mesure | Résultat | Objectif | Verdict | Détail |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )


def report_write(lines: list[Line], *, heading: str, folder: Path, context: dict) -> str:
    """Write var/bench.md and var/bench.json; return the Markdown."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown = report_markdown(lines, heading=heading)
    (folder / "bench.md").write_text(markdown, encoding="utf-8")
    payload = {**context, "lines": [asdict(line) for line in lines]}
    (folder / "bench.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return markdown
