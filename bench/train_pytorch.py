#!/usr/bin/env python3
"""Training wall time, PyTorch against tinyrnn, on the same models and data (issue 9).

Two modes:

    python3 bench/train_pytorch.py                      # PyTorch only: configs A and B
    python3 bench/train_pytorch.py --config B --epochs 20 --repeats 1
    python3 bench/train_pytorch.py --vs-tinyrnn         # the side-by-side runner (below)
    python3 bench/train_pytorch.py --vs-tinyrnn --rounds 7 --target-cpus default
    python3 bench/train_pytorch.py --vs-tinyrnn --adam fused   # PyTorch with Adam(fused=True)

PyTorch side. Both configurations train, on one thread (OMP/MKL/OPENBLAS_NUM_THREADS=1,
torch.set_num_threads(1)), in float32:

    self.rnn = nn.LSTM(6, 32)     # time-major; bias_hh frozen at zero (see below)
    self.fc  = nn.Linear(32, 4)   # logits from the last step's output
    loss = F.cross_entropy(logits, labels)            # softmax cross-entropy, mean over the batch
    Adam(lr=0.005), clip_grad_norm_(params, 1.0), batches of M = 8 reshuffled every epoch

on BasicMotions (examples/data: 40 training series, 6 channels x 100 steps, 4 classes), with
the preprocessing of examples/basic_motions.rs (average every POOL steps, standardise each
channel with the training split's mean and standard deviation):

    config A: the README's BasicMotions configuration, POOL = 10, T_X = 10
    config B: N_A = 32, T_X = 100, M = 8: the same series unpooled (POOL = 1)

60 epochs x 5 batches = 300 optimizer steps per run. This is tinyrnn's `LstmParams<f32, 6, 32,
4>` with `Target::ClassLast`, `Adam::new(0.005).with_clip(Clip::GlobalNorm(1.0))`, timed by
`benches/train_time.rs`. The shapes, the loss, the optimizer and the number of steps are the
same; the initialisation (PyTorch's default) and the batch order (torch.randperm) are not.
Adam is PyTorch's default implementation on CPU (a loop over the tensors) unless --adam
foreach or --adam fused (Adam(fused=True) saves PyTorch about 0.1 ms per step here).
PyTorch's LSTM has two bias vectors per gate where tinyrnn has one; bias_hh is kept at zero and
out of the optimizer, so both train 5,124 parameters. On CPU, PyTorch 2.x runs nn.LSTM's
forward and backward as oneDNN's fused RNN primitive (aten::mkldnn_rnn_layer{,_backward}).

Timed: the training loop only (per epoch the shuffle, per batch the gather of the batch from a
preloaded tensor, zero_grad, forward, loss, backward, clip, Adam step, loss.item()). Loading and
preprocessing are not timed; neither are --warmup steps (10) on a throwaway model and optimizer
before the timed runs, nor the test accuracy printed after them as a check. --repeats (3)
timed runs each train a fresh model from the same seed.

Output, per config, one tab-separated line on stdout (the same as the Rust side's):

    train_time  peer  config  steps  repeats  total_ms  ms_per_step  median_ms_per_step  cpu_ms_per_step  final_loss  test_acc  params  data_checksum

(total_ms and ms_per_step: wall time of the fastest run; median_ms_per_step: the median run's;
cpu_ms_per_step: the smallest process CPU time of a run, per step, which hardly grows when
other processes compete for the cores, a check on a busy machine; final_loss: the
mean loss over the last epoch's batches; data_checksum: sum of |x| over the preprocessed
training inputs, equal on both sides to ~1e-6 relative.) A readable summary goes to stderr.

Runner (--vs-tinyrnn). Builds `benches/train_time.rs` with
`cargo bench -p tinyrnn-bench --no-run` once per
target CPU in --target-cpus (default "default,x86-64-v3": the default x86-64 target and
-C target-cpu=x86-64-v3, added to your RUSTFLAGS), each in its own target directory
($CARGO_TARGET_DIR or target/)/train_vs_pytorch/<cpu>, then for each of --rounds rounds (5) and
each config runs one process of every tinyrnn build and one PyTorch process, in an order that
rotates from round to round, and prints a Markdown table: medians over the rounds of ms per
optimizer step (per process the fastest of its runs, --stat min, or their median) and of the
per-round ratio tinyrnn / PyTorch (lower is faster), with the machine, rustc, flags and torch
version. --no-build reuses the last builds. About 2 minutes for 5 rounds. Not run by CI. See
bench/README.md.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
N_X, N_A, N_Y, M, SERIES_LEN = 6, 32, 4, 8, 100
LR, CLIP_NORM, SEED = 0.005, 1.0, 42
CONFIGS = {"A": 10, "B": 1}  # config -> POOL; T_X = SERIES_LEN / POOL
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data (not timed)

def read_ts(path):
    """The labelled, equal-length multivariate `.ts` files of examples/data: returns
    (cases, labels, class_names); cases[i][c] is channel c of case i as floats."""
    class_names, cases, labels, in_data = None, [], [], False
    for n, line in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            key, _, value = line.partition(" ")
            key = key.lower()
            if key == "@classlabel":
                flag, *names = value.split()
                if flag.lower() != "true" or not names:
                    raise ValueError(f"{path}:{n}: expected class labels")
                class_names = names
            elif key == "@data":
                in_data = True
            continue
        *channels, label = line.split(":")
        cases.append([[float(v) for v in ch.split(",")] for ch in channels])
        labels.append(class_names.index(label.strip()))
    return cases, labels, class_names


def load(pool):
    """Both splits as examples/basic_motions.rs prepares them: (x_train, y_train, x_test,
    y_test), x as float32 arrays (cases, T_X, N_X), standardised with TRAIN's statistics."""
    import numpy as np

    t_x = SERIES_LEN // pool
    out = []
    for split in ("TRAIN", "TEST"):
        cases, labels, names = read_ts(DATA / f"BasicMotions_{split}.ts")
        a = np.array(cases, dtype=np.float64)  # (cases, N_X, SERIES_LEN)
        if a.shape[1:] != (N_X, SERIES_LEN) or len(names) != N_Y:
            raise ValueError(f"BasicMotions_{split}: unexpected shape {a.shape}")
        # Average every `pool` steps (in f64, then f32), as common/basic_motions.rs's `pool`.
        a = a.reshape(len(cases), N_X, t_x, pool).mean(axis=3).astype(np.float32)
        out.append((a.transpose(0, 2, 1), np.array(labels)))  # (cases, T_X, N_X)
    (xtr, ytr), (xte, yte) = out
    # Per-channel mean and population standard deviation over every TRAIN case and step (f64).
    flat = xtr.reshape(-1, N_X).astype(np.float64)
    mean = flat.mean(axis=0)
    std = np.maximum(np.sqrt(((flat - mean) ** 2).mean(axis=0)), 1e-8)
    norm = lambda x: ((x.astype(np.float64) - mean) / std).astype(np.float32)
    return norm(xtr), ytr, norm(xte), yte


# ---------------------------------------------------------------- PyTorch side

def pytorch_main(args):
    for v in THREAD_VARS:
        os.environ[v] = str(args.threads)
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(N_X, N_A)
            self.fc = nn.Linear(N_A, N_Y)
            with torch.no_grad():  # one bias per gate, as tinyrnn
                self.rnn.bias_hh_l0.zero_()
            self.rnn.bias_hh_l0.requires_grad_(False)

        def forward(self, x):  # x: (T_X, batch, N_X)
            y, _ = self.rnn(x)
            return self.fc(y[-1])

    def make(seed):
        torch.manual_seed(seed)
        net = Net()
        params = [p for p in net.parameters() if p.requires_grad]
        kw = {"default": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}[args.adam]
        opt = torch.optim.Adam(params, lr=LR, **kw)
        return net, params, opt

    def train(net, params, opt, X, Y, gen, steps):
        """`steps` optimizer steps over whole epochs (the last cut short); returns the mean
        loss of the last epoch's batches."""
        n = X.shape[1]
        done, last = 0, 0.0
        while done < steps:
            perm = torch.randperm(n, generator=gen)
            total, k = 0.0, 0
            for s in range(0, n, M):
                if done + k == steps:
                    break
                idx = perm[s:s + M]
                if len(idx) < M:  # pad a short batch by repetition, as the Rust side
                    idx = idx[torch.arange(M) % len(idx)]
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(net(X[:, idx]), Y[idx])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, CLIP_NORM)
                opt.step()
                total += loss.item()
                k += 1
            done += k
            last = total / k
        return last

    for config in args.config.split(","):
        config = config.upper()
        pool = CONFIGS[config]
        t_x = SERIES_LEN // pool
        xtr, ytr, xte, yte = load(pool)
        checksum = float(abs(xtr.astype("float64")).sum())
        X = torch.from_numpy(xtr.transpose(1, 0, 2).copy())  # (T_X, cases, N_X)
        Y = torch.from_numpy(ytr).long()
        Xte = torch.from_numpy(xte.transpose(1, 0, 2).copy())
        steps = args.epochs * -(-X.shape[1] // M)

        net, params, opt = make(args.seed + 1)  # warm-up on a throwaway model
        train(net, params, opt, X, Y, torch.Generator().manual_seed(args.seed + 1), args.warmup)

        times, cpu_times = [], []
        for _ in range(max(args.repeats, 1)):  # each a fresh model from the same seed
            net, params, opt = make(args.seed)
            gen = torch.Generator().manual_seed(args.seed)
            start, cpu_start = time.perf_counter(), time.process_time()
            final_loss = train(net, params, opt, X, Y, gen, steps)
            times.append((time.perf_counter() - start) * 1e3)
            cpu_times.append((time.process_time() - cpu_start) * 1e3)
        times.sort()
        cpu = min(cpu_times) / steps
        total_min, total_median = times[0], times[len(times) // 2]

        with torch.no_grad():
            acc = float((net(Xte).argmax(dim=1).numpy() == yte).mean())
        n_params = sum(p.numel() for p in params)
        lo, mid = total_min / steps, total_median / steps
        log(f"PyTorch {torch.__version__} config {config} (N_X={N_X} N_A={N_A} N_Y={N_Y} M={M} "
            f"T_X={t_x}, {n_params} parameters, {torch.get_num_threads()} thread(s)): {steps} "
            f"steps, fastest of {len(times)} runs {total_min:.1f} ms = {lo:.4f} ms/step (median "
            f"{mid:.4f}), CPU {cpu:.4f} ms/step; last-epoch loss {final_loss:.5f}, test accuracy "
            f"{acc:.3f}")
        print(f"train_time\tpytorch\t{config}\t{steps}\t{len(times)}\t{total_min:.3f}\t"
              f"{lo:.5f}\t{mid:.5f}\t{cpu:.5f}\t{final_loss:.6f}\t{acc:.4f}\t{n_params}\t"
              f"{checksum:.6f}", flush=True)


# ---------------------------------------------------------------- runner

def parse_rows(text):
    rows = {}
    for line in text.splitlines():
        f = line.split("\t")
        if len(f) == 13 and f[0] == "train_time":
            rows[f[2]] = {"steps": int(f[3]), "repeats": int(f[4]), "total_ms": float(f[5]),
                          "min": float(f[6]), "median": float(f[7]), "cpu": float(f[8]),
                          "loss": float(f[9]), "acc": float(f[10]), "params": int(f[11]),
                          "checksum": float(f[12])}
    return rows


def rust_env(args, cpu):
    env = dict(os.environ)
    flags = [env.get("RUSTFLAGS", "").strip()]
    if cpu != "default":
        flags.append(f"-C target-cpu={cpu}")
    if args.rustflags:
        flags.append(args.rustflags)
    env["RUSTFLAGS"] = " ".join(f for f in flags if f)
    if args.lto:
        env["CARGO_PROFILE_BENCH_LTO"] = "fat"
        env["CARGO_PROFILE_BENCH_CODEGEN_UNITS"] = "1"
    return env


def build(args, cpu, out):
    env = rust_env(args, cpu)
    log(f"building benches/train_time.rs: RUSTFLAGS={env['RUSTFLAGS']!r}, target dir {out}")
    p = subprocess.run(["cargo", "bench", "-p", "tinyrnn-bench", "--bench", "train_time",
                        "--no-run", "--message-format=json", "--target-dir", str(out)],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True)
    exe = None
    for line in p.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "train_time" \
                and msg.get("executable"):
            exe = msg["executable"]
    if not exe:
        sys.exit("could not find the train_time bench executable")
    return exe


def run_rows(cmd, env=None):
    return parse_rows(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True,
                                     env=env).stdout)


def runner_main(args):
    cpus = [c for c in args.target_cpus.split(",") if c]
    configs = [c.upper() for c in args.config.split(",")]
    tag = ("-lto" if args.lto else "") + \
        (f"-flags{abs(hash(args.rustflags)) % 10**8}" if args.rustflags else "")
    base = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "train_vs_pytorch"
    exes = {}
    for cpu in cpus:
        out = base / f"{cpu}{tag}"
        out.mkdir(parents=True, exist_ok=True)
        exe_file = out / "executable.json"
        if args.no_build and exe_file.exists():
            exes[cpu] = json.loads(exe_file.read_text())
        else:
            exes[cpu] = build(args, cpu, out)
            exe_file.write_text(json.dumps(exes[cpu]))

    common = ["--epochs", str(args.epochs), "--warmup", str(args.warmup),
              "--repeats", str(args.repeats), "--seed", str(args.seed)]
    torch_env = dict(os.environ)
    for v in THREAD_VARS:
        torch_env[v] = "1"
    for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        torch_env.pop(v, None)
    peers = [f"tinyrnn-{cpu}" for cpu in cpus] + ["pytorch"]
    keys = (args.stat, "cpu")  # wall ms/step (fastest or median run), CPU ms/step
    ms = {}      # (key, config, peer) -> [ms per step, one per round]
    ratios = {}  # (key, config, tinyrnn peer) -> [tinyrnn / PyTorch within a round]
    last = {}    # (config, peer) -> the last row, for loss, accuracy, checksum
    load = [os.getloadavg()[0]]
    for r in range(args.rounds):
        for config in configs:
            k = (r + configs.index(config)) % len(peers)
            rows = {}
            for peer in peers[k:] + peers[:k]:  # rotate the order from round to round
                if peer == "pytorch":
                    cmd = [sys.executable, str(Path(__file__).resolve()), "--config", config,
                           "--threads", "1", "--adam", args.adam] + common
                    rows[peer] = run_rows(cmd, torch_env)[config]
                else:
                    exe = exes[peer[len("tinyrnn-"):]]
                    rows[peer] = run_rows([exe, "--config", config] + common)[config]
                last[(config, peer)] = rows[peer]
            for key in keys:
                for peer in peers:
                    ms.setdefault((key, config, peer), []).append(rows[peer][key])
                    ratios.setdefault((key, config, peer), []).append(
                        rows[peer][key] / rows["pytorch"][key])
            log(f"round {r + 1}/{args.rounds} {config}: " + ", ".join(
                f"{p} {rows[p][args.stat]:.3f} (CPU {rows[p]['cpu']:.3f})" for p in peers)
                + " ms/step")
        load.append(os.getloadavg()[0])

    import torch  # only for its version and build
    rustc = subprocess.run(["rustc", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                      if l.startswith("model name")), platform.processor())
    flags = {cpu: rust_env(args, cpu)["RUSTFLAGS"] or "(none)" for cpu in cpus}
    med = statistics.median
    print(f"# training time, tinyrnn vs PyTorch: {cpu_model}, nproc {os.cpu_count()}; {rustc}; "
          f"torch {torch.__version__} (1 thread, oneDNN {torch.backends.mkldnn.is_available()}, "
          f"Adam: {args.adam})")
    print("# tinyrnn RUSTFLAGS: " + "; ".join(f"{cpu}: {f!r}" for cpu, f in flags.items())
          + f"; bench profile {'lto=fat, codegen-units=1' if args.lto else '(release settings)'}")
    print(f"# {args.rounds} rounds, one process per peer per round, order rotated; per process "
          f"the {'fastest' if args.stat == 'min' else 'median'} of {args.repeats} training runs "
          f"of {args.epochs} epochs (after {args.warmup} warm-up steps); medians over rounds of "
          f"ms per optimizer step and of the ratio within a round. CPU: process CPU time of the "
          f"run with the least. 1-minute load average {min(load):.1f}-{max(load):.1f} "
          f"(on {os.cpu_count()} CPUs)")
    print()
    print("| config | N_X, N_A, N_Y, M, T_X | steps | peer | ms/step | total ms | ratio to "
          "PyTorch | CPU ms/step | CPU ratio | last-epoch loss | test acc | params | "
          "data checksum |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for config in configs:
        shape = f"{N_X}, {N_A}, {N_Y}, {M}, {SERIES_LEN // CONFIGS[config]}"
        for peer in peers:
            row = last[(config, peer)]
            wall, cpu = (med(ms[(key, config, peer)]) for key in keys)
            rw, rc = (med(ratios[(key, config, peer)]) for key in keys)
            bold = (lambda x: f"**{x:.2f}**") if peer != "pytorch" else (lambda x: f"{x:.0f}")
            print(f"| {config} | {shape} | {row['steps']} | {peer} | {wall:.3f} | "
                  f"{wall * row['steps']:.0f} | {bold(rw)} | {cpu:.3f} | {rc:.2f} | "
                  f"{row['loss']:.4f} | {row['acc']:.3f} | {row['params']} | "
                  f"{row['checksum']:.3f} |")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="A,B", help="A (README BasicMotions), B (T_X = 100)")
    ap.add_argument("--epochs", type=int, default=60, help="5 optimizer steps each")
    ap.add_argument("--warmup", type=int, default=10, help="untimed steps before the run")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--repeats", type=int, default=3,
                    help="timed training runs per process, each from a fresh model")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads")
    ap.add_argument("--adam", choices=["default", "foreach", "fused"], default="default",
                    help="PyTorch's Adam implementation: its default on CPU (a loop over the "
                         "tensors), Adam(foreach=True) or Adam(fused=True)")
    ap.add_argument("--vs-tinyrnn", action="store_true", help="run the side-by-side runner")
    ap.add_argument("--rounds", type=int, default=5, help="runner: rounds")
    ap.add_argument("--stat", choices=["min", "median"], default="min",
                    help="runner: per process, the fastest or the median of the --repeats runs")
    ap.add_argument("--target-cpus", default="default,x86-64-v3",
                    help="runner: tinyrnn builds, 'default' or a -C target-cpu value each")
    ap.add_argument("--rustflags", default=None, help="runner: more RUSTFLAGS for tinyrnn")
    ap.add_argument("--lto", action="store_true", help="runner: tinyrnn with lto=fat, cgu=1")
    ap.add_argument("--no-build", action="store_true", help="runner: reuse the last builds")
    args = ap.parse_args()
    if args.vs_tinyrnn:
        runner_main(args)
    else:
        pytorch_main(args)


if __name__ == "__main__":
    main()
