"""`openfrs migrate --from DATA_DIR`: move an embedded data dir (SQLite files, in-process indexes,
secret.key) into the scale-out stores the settings name (PostgreSQL, Milvus, OPENFRS_SECRET_KEY).

Modules, in the order a run uses them: source.py (open and hold the data dir, its master key),
accounts.py (tenants, credentials re-sealed, users, tokens, usage, audit), facesets.py (face sets,
faces, vectors), persons.py (person groups, persons, their faces and memberships), verify.py
(counts and sample searches on both sides), progress.py (the stderr line), run.py (one run, its
summary), cli.py (options and exit codes). Every copy is keyed by the source's natural keys, so a
second run, or one after an interruption, copies only what is missing and refuses a target that
holds something different under the same key.
"""
