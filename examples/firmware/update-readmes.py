#!/usr/bin/env python3
"""Copies the counts of the last `qemu-check.sh` run into the READMEs.

- examples/firmware/README.md: the whole instruction table (it starts with the row
  "| instructions (exact, QEMU TCG plugin)") and the stack table ("| phase |");
- README.md: every summary row whose label is a row label of the run's table, matched in order
  (a label such as "streamed step, instructions per MAC" recurs: the n-th README row with it
  after the previous match takes the run's next row with it).

qemu-check.sh then checks that every number matches its run (within 0.2%).
Usage: python3 examples/firmware/update-readmes.py [target/qemu-check/report.md]
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
report_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "target/qemu-check/report.md")
report = open(report_path).read().split("\n")


def label(row):
    return row.split("|")[1].strip()


table = []
for line in report:
    if not line.startswith("|"):
        break
    table.append(line)
k = next(i for i, l in enumerate(report) if l.startswith("Stack high-water mark per phase"))
stack = []
for line in report[k + 1:]:
    if line.startswith("|"):
        stack.append(line)
    elif stack:
        break


def replace_table(path, first_prefix, new):
    lines = open(path).read().split("\n")
    a = next(i for i, l in enumerate(lines) if l.startswith(first_prefix))
    b = a
    while b < len(lines) and lines[b].startswith("|"):
        b += 1
    lines[a:b] = new
    open(path, "w").write("\n".join(lines))


fw = os.path.join(here, "README.md")
replace_table(fw, "| instructions (exact, QEMU TCG plugin)", table)
replace_table(fw, "| phase |", stack)

main = os.path.join(here, "../../README.md")
lines = open(main).read().split("\n")
labels = [label(r) for r in table]
pos = 0
for i, line in enumerate(lines):
    if not line.startswith("| ") or label(line) not in labels:
        continue
    j = next((j for j in range(pos, len(table)) if labels[j] == label(line)), None)
    if j is None:  # a label seen before the previous match: search from the top
        j = labels.index(label(line))
    lines[i] = table[j]
    pos = j + 1
open(main, "w").write("\n".join(lines))
print(f"copied {len(table)} + {len(stack)} rows into {fw} and the summary of {main}")
