"""What an import reads: a folder with one sub-folder per person, or a CSV listing images.

Opening a source checks it as a whole (exit code 2 before anything is written); scanning it
lists one item per image, each with its external_image_id and field values, and turns a
problem of one image or sub-folder into that item's refusal instead of an error."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from openfrs.errors import FRSError
from openfrs.importer.image_ids import image_id_for
from openfrs.importer.values import from_text, person_value
from openfrs.service.field_values import validate_values
from openfrs.service.setfaces import external_image_id

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
PATH, IMAGE_ID, PERSON = "path", "external_image_id", "person"
UNREADABLE = "unreadable"  # the code of a refusal that is an OSError, not an FRS rule


class SourceError(Exception):
    """The source as a whole cannot be used: nothing is written."""


@dataclass(frozen=True)
class SourceItem:
    label: str  # the path as the summary and report show it (relative to the source)
    path: Path | None  # None: nothing to read (the problem says why)
    image_id: str | None
    fields: dict[str, object] = field(default_factory=dict)
    problem: tuple[str, str] | None = None  # (code, message): refused without being read
    row: int | None = None  # CSV line
    person: str | None = None  # folder name, as found


@dataclass
class Scan:
    items: list[SourceItem]
    ignored: list[str]  # files that are not images (or hidden, or beside the person folders)
    adapted: dict[str, object] = field(default_factory=dict)  # person folder -> field value


def _refusal(error: FRSError) -> tuple[str, str]:
    return error.code, error.message


def open_source(path: Path) -> FolderSource | CsvSource:
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    try:
        if path.is_dir():
            os.listdir(path)
            return FolderSource(path)
        return CsvSource(path, _read_header(path))
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None


class FolderSource:
    """`ROOT/PERSON/*.jpg` (deeper folders too): the person is the top folder's name."""

    kind = "folder"

    def __init__(self, root: Path) -> None:
        self.root = root

    def schema_to_create(self, types: dict[str, str]) -> dict[str, str]:
        extra = sorted(set(types) - {PERSON})
        if extra:
            raise SourceError(f"--field-types: a folder source has only the field {PERSON!r}, "
                              f"not {', '.join(extra)}")
        return {PERSON: types.get(PERSON, "string")}

    def check_fields(self, schema: dict[str, str]) -> None:
        """Any set will do: without a `person` field the name lives only in the image id."""

    def scan(self, schema: dict[str, str]) -> Scan:
        scan = Scan([], [])
        people = []
        try:
            entries = sorted(os.scandir(self.root), key=lambda e: e.name)
        except OSError as exc:
            raise SourceError(f"{self.root}: cannot be read ({exc.strerror or exc})") from None
        for entry in entries:
            if entry.is_dir() and not entry.name.startswith("."):
                people.append(entry)
            else:
                scan.ignored.append(entry.name + ("/" if entry.is_dir() else ""))
        for person in people:
            self._scan_person(person.name, Path(person.path), schema.get(PERSON), scan)
        return scan

    def _scan_person(self, person: str, folder: Path, kind: str | None, scan: Scan) -> None:
        fields: dict[str, object] = {}
        problem = None
        if kind is not None:
            try:
                fields = {PERSON: person_value(kind, person)}
            except FRSError as exc:
                problem = _refusal(exc)
            if fields and fields[PERSON] != person:
                scan.adapted[person] = fields[PERSON]

        def unreadable(error: OSError) -> None:
            label = self._relative(Path(error.filename or folder)) + "/"
            scan.items.append(SourceItem(label, None, None, problem=(
                UNREADABLE, f"cannot read the folder: {error.strerror or error}")))

        for directory, folders, files in os.walk(folder, onerror=unreadable):
            folders[:] = sorted(name for name in folders if not name.startswith("."))
            for name in sorted(files):
                label = self._relative(Path(directory, name))
                if name.startswith(".") or PurePath(name).suffix.lower() not in IMAGE_EXTENSIONS:
                    scan.ignored.append(label)
                    continue
                scan.items.append(SourceItem(label, Path(directory, name), image_id_for(label),
                                             fields, problem, person=person))

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def _read_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as stream:
        try:
            header = next(csv.reader(stream), None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SourceError(f"{path}: not a readable CSV file ({exc})") from None
    columns = [name.strip() for name in header or []]
    if PATH not in columns:
        raise SourceError(f"{path}: the CSV needs a header with a {PATH!r} column "
                          f"(found: {', '.join(map(repr, columns)) or 'no header'})")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated or "" in columns:
        raise SourceError(f"{path}: column names must be unique and not empty "
                          f"(found: {', '.join(map(repr, columns))})")
    return columns


class CsvSource:
    """A header with `path` (relative paths from the CSV's folder), optional `external_image_id`,
    and any other column as a custom field of the set."""

    kind = "csv"

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns
        self.field_columns = [name for name in columns if name not in (PATH, IMAGE_ID)]

    def schema_to_create(self, types: dict[str, str]) -> dict[str, str]:
        extra = sorted(set(types) - set(self.field_columns))
        if extra:
            raise SourceError(f"--field-types names {', '.join(extra)}, which the CSV has no column for "
                              f"(its field columns: {', '.join(self.field_columns) or 'none'})")
        return {name: types.get(name, "string") for name in self.field_columns}

    def check_fields(self, schema: dict[str, str]) -> None:
        unknown = [name for name in self.field_columns if name not in schema]
        if unknown:
            declared = ", ".join(f"{name} ({kind})" for name, kind in schema.items()) or "none"
            raise SourceError(f"{self.path}: column(s) {', '.join(unknown)} are not fields of the face "
                              f"set (its fields: {declared}; the CSV may also have "
                              f"{PATH!r} and {IMAGE_ID!r})")

    def scan(self, schema: dict[str, str]) -> Scan:
        scan = Scan([], [])
        try:
            with self.path.open(newline="", encoding="utf-8-sig") as stream:
                reader = csv.reader(stream)
                next(reader, None)
                for row in reader:
                    if any(cell.strip() for cell in row):
                        scan.items.append(self._item(row, reader.line_num, schema))
        except (OSError, csv.Error, UnicodeDecodeError) as exc:
            raise SourceError(f"{self.path}: cannot be read ({exc})") from None
        return scan

    def _item(self, row: list[str], line: int, schema: dict[str, str]) -> SourceItem:
        cells = dict(zip(self.columns, row, strict=False))
        text = cells.get(PATH, "").strip()
        if not text:
            return SourceItem(f"line {line}", None, None, problem=("FRS.0011", "the path is empty"),
                              row=line)
        relative = Path(os.path.normpath(text)).as_posix()
        path = Path(text) if Path(text).is_absolute() else self.path.parent / text
        try:
            if len(row) > len(self.columns) and any(cell.strip() for cell in row[len(self.columns):]):
                raise FRSError("FRS.0012", f"the row has {len(row)} cells, the header {len(self.columns)}")
            given = cells.get(IMAGE_ID, "").strip()
            image_id = external_image_id(given) if given else image_id_for(relative)
            values = {name: from_text(name, schema[name], cells[name])
                      for name in self.field_columns if cells.get(name, "").strip()}
            fields = validate_values(values, schema)
        except FRSError as exc:
            return SourceItem(text, path, None, problem=_refusal(exc), row=line)
        return SourceItem(text, path, image_id, fields, row=line)
