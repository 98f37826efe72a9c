"""`openfrs migrate --from DATA_DIR`: options, the JSON summary on stdout, and the exit codes
(0 copied and verified; 1 copied, but the verification names what does not match; 2 refused: the
target is not scale-out, the source is held by a server or is no data dir, its master key is
missing, or the target holds different data under the source's keys; 130 interrupted: run again
to complete)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from openfrs.config import Settings
from openfrs.importer.cli import _positive  # the import's "at least 1" option type

EXIT_OK, EXIT_MISMATCH, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", type=Path, required=True, metavar="DATA_DIR",
                        help="the embedded data dir to copy (its server stopped); the target is the "
                             "scale-out one of the environment: OPENFRS_DATABASE_URL, "
                             "OPENFRS_DATABASE_SCHEMA, OPENFRS_SECRET_KEY, OPENFRS_VECTOR_URL, "
                             "OPENFRS_VECTOR_PREFIX, as for `openfrs serve`")
    parser.add_argument("--source-key-file", type=Path, default=None, metavar="FILE",
                        help="the master key sealing the source's secret keys (default: DATA_DIR/"
                             "secret.key; a source server run with OPENFRS_SECRET_KEY: give that "
                             "value as OPENFRS_SOURCE_SECRET_KEY instead)")
    parser.add_argument("--batch", type=_positive, default=1000,
                        help="faces (and persons, usage or audit rows) per transaction (default 1000)")
    parser.add_argument("--verify-samples", type=_positive, default=20, metavar="N",
                        help="stored faces per set searched on both sides when verifying (default 20)")
    parser.add_argument("--top-k", type=_positive, default=10,
                        help="results compared per verifying search (default 10)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from openfrs.migrate.run import MigrateRequest, run_migration
    from openfrs.migrate.source import SOURCE_KEY_ENV, Refused

    request = MigrateRequest(args.source, args.source_key_file, os.environ.get(SOURCE_KEY_ENV),
                             args.batch, args.verify_samples, args.top_k)
    try:
        summary, mismatches = run_migration(request, settings)
    except Refused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("interrupted: what was copied is whole; run the same command again to complete it",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    print(json.dumps(summary, indent=2))
    for mismatch in mismatches:
        print(f"mismatch: {mismatch}", file=sys.stderr)
    return EXIT_MISMATCH if mismatches else EXIT_OK
