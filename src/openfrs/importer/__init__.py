"""`openfrs import`: bulk enrolment of a folder (one sub-folder per person) or a CSV of images into
a face set, through the service layer on the server's data dir.

image_ids: a stable external_image_id per path · values: field values from text ·
sources: folder and CSV scanning · enrol: the N-in-flight loop · progress: the stderr line ·
outcomes: per-image results, summary, report · job: one run (checks, set creation, skip) ·
cli: the command's options and exit codes.
"""
