"""`openfrs import SOURCE --face-set NAME`: options, the summary and the exit codes
(0 the run went through, even with refused images; 1 nothing could be enrolled; 2 a usage or
source error, before anything is written; 130 stopped by Ctrl-C — run again to resume)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openfrs.config import Settings
from openfrs.importer.outcomes import ENROLLED, NOT_ATTEMPTED, REFUSED, SKIPPED, ImportResult

EXIT_OK, EXIT_NOTHING, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
UNUSABLE_SET = frozenset({"FRS.0306", "FRS.0302"})  # the set's model is not loaded; the set is gone


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path,
                        help="a folder with one sub-folder per person, or a CSV file with a header "
                             "(path, optional external_image_id, custom fields)")
    parser.add_argument("--face-set", required=True, help="the face set to enrol into")
    parser.add_argument("--project", default="default", help="project name or id (default: default)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="the server's data dir (default: OPENFRS_DATA_DIR or ./data)")
    parser.add_argument("--create", action="store_true",
                        help="create the set when missing (folder: a string field 'person'; CSV: "
                             "its extra columns as string fields, see --field-types)")
    parser.add_argument("--field-types", default="", help="with --create: name:type,... "
                        "(string, integer, long, float, double, boolean)")
    parser.add_argument("--capacity", type=int, default=None, help="with --create: the set's capacity")
    parser.add_argument("--workers", type=_positive, default=None,
                        help="images in flight (default: OPENFRS_INFERENCE_WORKERS)")
    parser.add_argument("--limit", type=_positive, default=None,
                        help="read at most N images not yet in the set, then stop (a trial run; "
                             "the same command again goes on)")
    parser.add_argument("--report", type=Path, default=None, help="write every image's outcome as JSON")
    parser.add_argument("--examples", type=int, default=5, help="example paths per refusal reason")


def run(args: argparse.Namespace, settings: Settings, face_service=None) -> int:
    from openfrs.importer.job import EmptySource, ImportRequest, SourceError, TargetError, run_import
    from openfrs.importer.values import parse_field_types

    try:
        field_types = parse_field_types(args.field_types)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    request = ImportRequest(args.source, args.face_set, args.project, args.create, field_types,
                            args.capacity, args.workers, args.limit)
    try:
        result = run_import(request, settings, face_service)
    except (SourceError, TargetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except EmptySource as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    except KeyboardInterrupt:
        print("aborted: faces already acknowledged stay enrolled; run again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(result.summary(args.examples))
    if args.report is not None:
        try:
            result.write_report(args.report)
        except OSError as exc:
            print(f"error: the report could not be written: {exc}", file=sys.stderr)
    return exit_code(result)


def exit_code(result: ImportResult) -> int:
    counts = result.counts()
    if result.stopped == "interrupted" and counts[NOT_ATTEMPTED]:
        return EXIT_INTERRUPTED
    if UNUSABLE_SET & result.refusals().keys():
        return EXIT_NOTHING
    if counts[ENROLLED] == 0 and counts[SKIPPED] == 0 and counts[REFUSED] > 0:
        return EXIT_NOTHING
    return EXIT_OK
