#!/usr/bin/env python3
"""Side-by-side LSTM timing: tinyrnn's `layers` bench against ../shared/bench/baseline.

Builds the baseline (a copy, since the shared folder is read-only) and tinyrnn's `layers` bench
with the same RUSTFLAGS, each in its own target directory under target/side_by_side/, then for
every round and workload runs baseline, tinyrnn, baseline (three processes, the same timing loop
and TSV format), keeps a round only where the two baseline brackets agree within --tolerance, and
prints the medians over the kept rounds: ns per step and the ratio tinyrnn / baseline (lower is
faster). Not run by CI. See bench/README.md.

    python3 bench/side_by_side.py                          # S1-S5, default x86-64 target
    python3 bench/side_by_side.py --target-cpu x86-64-v3   # both built for x86-64-v3
    python3 bench/side_by_side.py --workloads S2,S4 --rounds 10 --extra-cells gru,rnn --extra-types f32,f64
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE_SRC = (ROOT / ".." / "shared" / "bench" / "baseline").resolve()
WORKLOADS = ["S1", "S2", "S3", "S4", "S5"]
# Forward FLOPs per step: 8·N_A·(N_A+N_X)·M + 13·N_A·M (shared README).
SHAPES = {"S1": (3, 5, 10, 7), "S2": (16, 32, 1, 50), "S3": (1, 32, 1, 1000),
          "S4": (64, 128, 1, 100), "S5": (32, 64, 32, 50)}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def flops(wl):
    nx, na, m, _ = SHAPES[wl]
    return 8 * na * (na + nx) * m + 13 * na * m


def build_env(args):
    env = dict(os.environ)
    flags = [env.get("RUSTFLAGS", "").strip()]
    if args.target_cpu:
        flags.append(f"-C target-cpu={args.target_cpu}")
    if args.rustflags:
        flags.append(args.rustflags)
    env["RUSTFLAGS"] = " ".join(f for f in flags if f)
    return env


def tag(args):
    parts = [args.target_cpu or "default"]
    if args.rustflags:
        parts.append("flags" + str(abs(hash(args.rustflags)) % 10**8))
    if args.lto:
        parts.append("lto")
    return "-".join(parts)


def build(args, out):
    env = build_env(args)
    log(f"RUSTFLAGS={env['RUSTFLAGS']!r}  build dir {out}")
    # The baseline: a fresh copy of its sources (its target/ is not copied), its own profile
    # (release: opt-level 3, lto = "fat", codegen-units = 1).
    src = out / "baseline-src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(BASELINE_SRC, src, ignore=shutil.ignore_patterns("target"))
    log("building the baseline ...")
    subprocess.run(["cargo", "build", "--release", "--quiet",
                    "--target-dir", str(out / "baseline-target")],
                   cwd=src, env=env, check=True)
    baseline = out / "baseline-target" / "release" / "lstm-peer-bench"

    # tinyrnn: `cargo bench -p tinyrnn-bench --no-run`, the bench profile (release's settings
    # unless --lto).
    benv = dict(env)
    if args.lto:
        benv["CARGO_PROFILE_BENCH_LTO"] = "fat"
        benv["CARGO_PROFILE_BENCH_CODEGEN_UNITS"] = "1"
    log("building tinyrnn's layers bench ...")
    p = subprocess.run(["cargo", "bench", "-p", "tinyrnn-bench", "--bench", "layers", "--no-run",
                        "--message-format=json", "--target-dir", str(out / "tinyrnn-target")],
                       cwd=ROOT, env=benv, check=True, stdout=subprocess.PIPE, text=True)
    exe = None
    for line in p.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "layers" \
                and msg.get("executable"):
            exe = msg["executable"]
    if not exe:
        sys.exit("could not find the layers bench executable")
    return baseline, Path(exe)


def parse(text):
    """TSV rows -> {(variant, mode): (median, min, check)}."""
    rows = {}
    for line in text.splitlines():
        f = line.split("\t")
        if len(f) != 7:
            continue
        rows[(f[1], f[3])] = (float(f[4]), float(f[5]), float(f[6]))
    return rows


def run(cmd):
    return parse(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=11, help="timed batches per measurement")
    ap.add_argument("--target", type=float, default=0.02, help="seconds per timed batch")
    ap.add_argument("--stat", choices=["min", "median"], default="min",
                    help="per measurement: fastest of the repeats (the shared README's anchors) "
                         "or their median")
    ap.add_argument("--tolerance", type=float, default=0.05,
                    help="keep a round when the two baseline brackets agree within this")
    ap.add_argument("--target-cpu", default=None,
                    help="adds -C target-cpu=CPU to RUSTFLAGS for both builds (e.g. x86-64-v3)")
    ap.add_argument("--rustflags", default=None, help="more RUSTFLAGS for both builds")
    ap.add_argument("--lto", action="store_true",
                    help="build tinyrnn's bench with lto=fat, codegen-units=1 (the baseline's "
                         "release profile); default: the crate's bench profile")
    ap.add_argument("--extra-cells", default="", help="tinyrnn-only rows: e.g. gru,rnn")
    ap.add_argument("--extra-types", default="f32", help="types of the extra rows: f32,f64")
    ap.add_argument("--extra-modes", default="",
                    help="more tinyrnn modes for every row: step (streaming), train (train_step)")
    ap.add_argument("--f64", action="store_true", help="also LSTM f64 (tinyrnn only)")
    ap.add_argument("--tsv-out", default=None, help="append every raw row to this file")
    ap.add_argument("--no-build", action="store_true", help="reuse the last build of this tag")
    args = ap.parse_args()

    out = ROOT / "target" / "side_by_side" / tag(args)
    out.mkdir(parents=True, exist_ok=True)
    exe_file = out / "executables.json"
    if args.no_build and exe_file.exists():
        baseline, tiny = map(Path, json.loads(exe_file.read_text()))
    else:
        baseline, tiny = build(args, out)
        exe_file.write_text(json.dumps([str(baseline), str(tiny)]))

    wls = args.workloads.split(",")
    cells = ["lstm"] + [c for c in args.extra_cells.split(",") if c and c != "lstm"]
    types = sorted(set(["f32"] + [t for t in args.extra_types.split(",") if t]
                       + (["f64"] if args.f64 else [])))
    modes = ["fwd", "fwdbwd"] + [m for m in args.extra_modes.split(",") if m]
    timing = ["--repeats", str(args.repeats), "--target", str(args.target)]
    col = 1 if args.stat == "min" else 0
    tsv = open(args.tsv_out, "a") if args.tsv_out else None

    # samples[(wl, mode)] = [(b1, b2)], tiny[(wl, variant, mode)] = [t], ratios per round
    brackets, tiny_t, kept_ratio, checks = {}, {}, {}, {}
    for r in range(args.rounds):
        for wl in wls:
            base_cmd = [str(baseline), "--baseline-only", "--workloads", wl] + timing
            b1 = run(base_cmd)
            t = run([str(tiny), "--tsv", "--workloads", wl, "--cells", ",".join(cells),
                     "--types", ",".join(types), "--modes", ",".join(modes)] + timing)
            b2 = run(base_cmd)
            if tsv:
                for src, rows in (("b1", b1), ("tiny", t), ("b2", b2)):
                    for (v, m), x in rows.items():
                        tsv.write(f"{r}\t{src}\t{wl}\t{v}\t{m}\t{x[0]}\t{x[1]}\t{x[2]}\n")
            for mode in modes:
                base_mode = "fwd" if mode == "step" else mode
                bb = (b1.get(("na", base_mode)), b2.get(("na", base_mode)))
                if None in bb:  # train: no baseline
                    ok, base = True, None
                else:
                    x1, x2 = bb[0][col], bb[1][col]
                    ok = abs(x1 - x2) / min(x1, x2) <= args.tolerance
                    base = (x1 + x2) / 2
                    checks[(wl, base_mode, "na")] = bb[0][2]
                    if ok:
                        brackets.setdefault((wl, base_mode), []).append(base)
                for (v, m), x in t.items():
                    if m != mode:
                        continue
                    checks[(wl, m, v)] = x[2]
                    if not ok:
                        continue
                    tiny_t.setdefault((wl, v, m), []).append(x[col])
                    if base:
                        kept_ratio.setdefault((wl, v, m), []).append(x[col] / base)
            log(f"round {r + 1}/{args.rounds} {wl}: baseline fwd {b1[('na', 'fwd')][col]:.0f}/"
                f"{b2[('na', 'fwd')][col]:.0f}, tinyrnn fwd {t[('lstm-f32', 'fwd')][col]:.0f} ns/step")

    med = lambda v: statistics.median(v) if v else float("nan")
    rustc = subprocess.run(["rustc", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    print(f"# tinyrnn vs baseline, side by side: {cpu}, {os.cpu_count()} CPUs; {rustc}")
    print(f"# RUSTFLAGS={build_env(args)['RUSTFLAGS']!r}; tinyrnn bench profile "
          f"{'lto=fat, codegen-units=1' if args.lto else 'default (release settings)'}; "
          f"baseline: its release profile (lto=fat, codegen-units=1)")
    print(f"# {args.rounds} rounds, {args.stat} of {args.repeats} repeats per measurement, rounds "
          f"kept where the baseline brackets agree within {args.tolerance:.0%}; medians over "
          f"kept rounds; ns per step (a step covers the whole batch M)")
    print()
    print("| workload | mode | variant | baseline ns/step | tinyrnn ns/step | ratio | "
          "GFLOP/s | kept | check (baseline / tinyrnn) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for wl in wls:
        for mode in modes:
            base_mode = "fwd" if mode == "step" else mode
            base = med(brackets.get((wl, base_mode), []))
            for ty in types:
                for c in cells:
                    v = f"{c}-{ty}"
                    ts = tiny_t.get((wl, v, mode), [])
                    rs = kept_ratio.get((wl, v, mode), [])
                    # LSTM FLOPs per step / ns = GFLOP/s (forward+backward ≈ 3x forward; no head).
                    mult = {"fwd": 1, "step": 1, "fwdbwd": 3}.get(mode)
                    gf = mult * flops(wl) / med(ts) if ts and mult and c == "lstm" else float("nan")
                    cb, ct = checks.get((wl, base_mode, "na")), checks.get((wl, mode, v))
                    chk = f"{cb:.6e} / {ct:.6e}" if (v == "lstm-f32" and cb is not None
                                                      and ct is not None) else ""
                    ratio = f"{med(rs):.2f}" if rs else "—"
                    if v != "lstm-f32" and rs:
                        ratio += " (vs LSTM f32)"
                    print(f"| {wl} | {mode} | {v} | {base:.0f} | {med(ts):.0f} | {ratio} | "
                          f"{gf:.1f} | {len(ts)}/{args.rounds} | {chk} |")
    if tsv:
        tsv.close()


if __name__ == "__main__":
    main()
