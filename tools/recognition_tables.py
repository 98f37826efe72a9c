"""Print the recognition tables of docs/accuracy.md from `openfrs eval verification | fairness |
calibrate --json` output.

    python tools/recognition_tables.py bench/out/verification.json bench/out/fairness.json \
        bench/out/calibrate.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

GROUPS = ("lfw", "asian-faces", "utkface-white", "utkface-black", "utkface-asian", "utkface-indian",
          "utkface-other")


def verification(data: dict) -> None:
    table = data["all_pairs"]["candidates"]
    print("| candidate | LFW-partial TAR @ 1e-3 / 1e-4 / 1e-5 | asian-faces TAR @ 1e-3 / 1e-4 / 1e-5 |")
    print("|---|---|---|")
    for name, sets in table.items():
        cells = []
        for collection in ("lfw", "asian-faces"):
            rows = sets[collection]["at_far"]
            cells.append(" / ".join(f"{r['tar']:.3f}" + ("" if r["resolved"] else "*")
                                    for r in rows.values()))
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    first = next(iter(table.values()))
    lfw = first["lfw"]
    print(f"\npairs: LFW {lfw['genuine_pairs']} genuine / {lfw['impostor_pairs']} impostor; "
          f"asian-faces {first['asian-faces']['genuine_pairs']} / {first['asian-faces']['impostor_pairs']}; "
          f"excluded same-person pairs {data['all_pairs']['excluded_same_person_pairs']}")
    print("pairs.tsv (default):", json.dumps(data["pairs_tsv_default"]))


def fairness(data: dict) -> None:
    print("group sizes (impostor pairs):", data["group_sizes"])
    print("excluded:", data["excluded_same_person_pairs"])
    print("\n| candidate (its LFW FAR-1e-3 cosine) | " + " | ".join(GROUPS) + " | asian-faces TAR |")
    print("|---|" + "---|" * (len(GROUPS) + 1))
    for name, row in data["at_own_lfw_far_1e-3_threshold"].items():
        rates = " | ".join(f"{row['fmr'][g]:.1e}" for g in GROUPS)
        print(f"| {name} ({row['lfw_far_1e-3_threshold']:.3f}) | {rates} | {row['tar_asian_faces']:.3f} |")
    print("\nwithout the same-person filter:")
    for name, row in data["at_own_lfw_far_1e-3_threshold"].items():
        raw = row["fmr_without_same_person_filter"]
        print(f"  {name}: " + ", ".join(f"{g} {raw[g]:.1e}" for g in GROUPS))
    for name, levels in data["at_published_thresholds"].items():
        print(f"\npublished thresholds, {name}:")
        print("| similarity ≥ | FAR target | " + " | ".join(GROUPS) + " |")
        print("|---|---|" + "---|" * len(GROUPS))
        for level, row in levels.items():
            print(f"| {level.split('>=')[1]} | {row['far_target']:.0e} | "
                  + " | ".join(f"{row['fmr'][g]:.1e}" for g in GROUPS) + " |")


def calibration(data: dict) -> None:
    for name, report in data.items():
        print(f"\n{name} ({report['recogniser']})")
        print("| FAR target | similarity | cosine | set by | TAR LFW | TAR asian-faces |")
        print("|---|---|---|---|---|---|")
        for row in report["anchors"]:
            print(f"| {row['far']:.0e} | {row['similarity']} | {row['cosine']:.4f} | {row['set_by']} | "
                  f"{row['tar_lfw']:.3f} | {row['tar_asian-faces']:.3f} |")
        print("\n| gallery | FPIR | FAR per comparison | similarity threshold | TAR LFW | TAR asian-faces |")
        print("|---|---|---|---|---|---|")
        for row in report["one_to_n"]:
            print(f"| {row['gallery']:,} | {row['fpir']:.1%} | {row['far_per_comparison']:.0e} | "
                  f"{row['similarity']:.3f} | {row['tar_lfw']:.3f} | {row['tar_asian-faces']:.3f} |")


def main(paths: list[Path]) -> None:
    for path in paths:
        data = json.loads(path.read_text())
        if "all_pairs" in data:
            verification(data)
        elif "at_own_lfw_far_1e-3_threshold" in data:
            fairness(data)
        else:
            calibration(data)
        print()


if __name__ == "__main__":
    main([Path(arg) for arg in sys.argv[1:]])
