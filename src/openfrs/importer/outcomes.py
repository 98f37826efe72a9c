"""What became of each image of an import, the end-of-run summary and the JSON report."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ENROLLED = "enrolled"
SKIPPED = "skipped"  # its external_image_id is in the set already (an earlier run)
DUPLICATE = "duplicate"  # an earlier item of this source has the same external_image_id
REFUSED = "refused"
NOT_ATTEMPTED = "not_attempted"  # the run stopped first (--limit, Ctrl-C)
STATUSES = (ENROLLED, SKIPPED, DUPLICATE, REFUSED, NOT_ATTEMPTED)


@dataclass(frozen=True)
class Outcome:
    label: str
    status: str
    image_id: str | None = None
    code: str = ""  # refused: the FRSError code, or "unreadable" for an OSError
    message: str = ""
    face_id: str = ""
    row: int | None = None
    person: str | None = None

    def where(self) -> str:
        return self.label if self.row is None else f"{self.label} (line {self.row})"


@dataclass
class ImportResult:
    source: str
    project_id: str
    project_name: str
    face_set: str
    created: bool
    workers: int
    outcomes: list[Outcome] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    adapted: dict[str, object] = field(default_factory=dict)
    stopped: str | None = None  # None: went through the source; "limit" or "interrupted"
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        found = Counter(outcome.status for outcome in self.outcomes)
        return {status: found.get(status, 0) for status in STATUSES} | {"ignored_files": len(self.ignored)}

    def refusals(self) -> dict[str, list[Outcome]]:
        """Refused items by code, codes in the order first met."""
        grouped: dict[str, list[Outcome]] = {}
        for outcome in self.outcomes:
            if outcome.status == REFUSED:
                grouped.setdefault(outcome.code, []).append(outcome)
        return grouped

    def summary(self, examples: int = 5) -> str:
        counts = self.counts()
        project = self.project_name if self.project_name == self.project_id else (
            f"{self.project_name}, {self.project_id}")
        created = " [created]" if self.created else ""
        duplicates = [o for o in self.outcomes if o.status == DUPLICATE]
        lines = [f"face set {self.face_set!r} (project {project}){created}: "
                 f"{len(self.outcomes)} item(s) from {self.source}",
                 f"  enrolled              {counts[ENROLLED]}",
                 f"  already in the set    {counts[SKIPPED]}",
                 f"  duplicates            {counts[DUPLICATE]}" + _examples(duplicates, examples),
                 f"  refused               {counts[REFUSED]}"]
        lines += self._refusal_lines(examples)
        if counts[NOT_ATTEMPTED] or self.stopped:
            why = {"limit": "stopped by --limit", "interrupted": "interrupted"}.get(self.stopped or "", "")
            lines.append(f"  not attempted         {counts[NOT_ATTEMPTED]}   ({why}: run the same "
                         "command again to continue)")
        lines.append(f"  other files ignored   {counts['ignored_files']}" + _examples(self.ignored, examples))
        if self.adapted:
            shown = ", ".join(f"{k!r} -> {v!r}" for k, v in list(self.adapted.items())[:examples])
            lines.append(f"  person names adapted to FRS field rules: {len(self.adapted)} ({shown})")
        attempted = counts[ENROLLED] + counts[REFUSED]
        rate = attempted / self.seconds if self.seconds > 0 else 0.0
        lines.append(f"  {self.seconds:.1f} s, {rate:.1f} images/s, {self.workers} worker(s)")
        return "\n".join(lines)

    def _refusal_lines(self, examples: int) -> list[str]:
        lines = []
        for code, refused in self.refusals().items():
            message = Counter(o.message for o in refused).most_common(1)[0][0]
            lines.append(f"    {code}  {len(refused)}  {message}")
            lines.extend(f"      {o.where()}" for o in refused[:examples])
            if len(refused) > examples:
                lines.append(f"      ... {len(refused) - examples} more (--report FILE lists every one)")
        return lines

    def report(self) -> dict[str, object]:
        return {"source": self.source, "project_id": self.project_id, "project": self.project_name,
                "face_set": self.face_set,
                "created": self.created, "stopped": self.stopped, "seconds": round(self.seconds, 3),
                "workers": self.workers, "counts": self.counts(),
                "images": [_image_json(o) for o in self.outcomes],
                "ignored_files": self.ignored, "adapted_person_names": self.adapted}

    def write_report(self, path: Path) -> None:
        path.write_text(json.dumps(self.report(), indent=1, ensure_ascii=False) + "\n")


def _image_json(outcome: Outcome) -> dict[str, object]:
    fields = {"path": outcome.label, **asdict(outcome)}
    del fields["label"]
    return {key: value for key, value in fields.items() if value not in (None, "")}


def _examples(items: list, count: int) -> str:
    if not items or count <= 0:
        return ""
    shown = [item.where() if isinstance(item, Outcome) else str(item) for item in items[:count]]
    return "   (e.g. " + ", ".join(shown) + (", ..." if len(items) > count else "") + ")"
