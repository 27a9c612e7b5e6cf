"""Build docs/runbook.md and docs/differences.md from their sections (``make docs``).

Each capability keeps its runbook section in ``docs/runbook/<name>.md`` and its deliberate
differences from the seed in ``docs/differences/<name>.md``; ``_head.md`` is the top of each
document. Headings are shifted so every section starts at ``##``; a table of contents is added.
``python docs/assemble.py --check`` exits 1 when the assembled files are out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ORDER = {
    "runbook": [
        "00-overview", "run", "orchestrate", "ingest", "sse", "generate", "kafka", "bronze",
        "silvergold", "quality", "observe", "serve", "storage", "scale", "spark", "perf",
        "perflake", "cleanup",
    ],
    "differences": [
        "00-weaknesses", "ingest", "sse", "generate", "kafka", "bronze", "silvergold", "quality",
        "orchestrate", "acceptrun", "cleanup", "observe", "serve", "storage", "scalee2e", "spark",
        "perf", "perflake",
    ],
}  # fmt: skip


def normalize(text: str) -> str:
    """Shift the section's headings so its top level is ``##`` (code fences untouched)."""
    lines = text.strip("\n").splitlines()
    top = next((len(m.group(1)) for line in lines if (m := re.match(r"^(#+) ", line))), 2)
    out, fence = [], False
    for line in lines:
        if line.startswith("```"):
            fence = not fence
        m = re.match(r"^(#+) (.*)$", line)
        if m and not fence:
            line = "#" * max(2, min(6, len(m.group(1)) + 2 - top)) + " " + m.group(2)
        out.append(line)
    return "\n".join(out) + "\n"


def anchor(title: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def assemble(kind: str) -> str:
    """The text of ``docs/<kind>.md`` built from ``docs/<kind>/*.md``."""
    folder = DOCS / kind
    names = [n for n in ORDER[kind] if (folder / f"{n}.md").exists()]
    names += sorted(
        p.stem
        for p in folder.glob("*.md")
        if p.stem not in names and p.stem != "README" and not p.stem.startswith("_")
    )
    sections = [normalize((folder / f"{n}.md").read_text(encoding="utf-8")) for n in names]
    toc = []
    for section in sections:
        title = next(line[3:] for line in section.splitlines() if line.startswith("## "))
        toc.append(f"- [{title}](#{anchor(title)})")
    head = (folder / "_head.md").read_text(encoding="utf-8").rstrip()
    return head + "\n\n## Contents\n\n" + "\n".join(toc) + "\n\n" + "\n".join(sections)


def main(argv: list[str]) -> int:
    stale = []
    for kind in ORDER:
        target = DOCS / f"{kind}.md"
        text = assemble(kind)
        if target.read_text(encoding="utf-8") != text:
            stale.append(target.name)
            if "--check" not in argv:
                target.write_text(text, encoding="utf-8")
    if "--check" in argv and stale:
        print(f"out of date: {', '.join(stale)}; run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
