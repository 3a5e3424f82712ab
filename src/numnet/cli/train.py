"""``numnet train``: fit a network to a built-in data set or a CSV/NPZ file.

Loads the data (:func:`numnet.datasets.load_dataset`), splits off a validation set,
standardizes the features, trains with any :func:`numnet.optim.minimize`
method under a tqdm progress bar (one tick per iteration, from the
callback), then saves the network with :func:`numnet.io.save` (npz + JSON,
never pickle; the standardization folded into the first layer), the metrics
and history as JSON, and figures: the loss curve, and the decision regions
for two-feature classification data.

A run is resumable: its arguments are recorded and its optimizer state is
checkpointed (every ``--checkpoint-every`` iterations, on Ctrl-C or SIGTERM,
and at the end) in ``OUT.checkpoint/``; ``--resume OUT`` continues it bit
for bit at the same thread count. The outputs are written as one unit: a
temporary folder renamed to ``--out`` when complete (the layout is in
:mod:`numnet.cli._run_folder`, the resume rules in :mod:`numnet.cli._resume`).

Under ``mpiexec -n K`` every rank loads the data and makes the same split,
then trains on its consecutive block of the training rows (a
:class:`~numnet.distributed.DistributedObjective`: one ``Allreduce`` per
value, gradient or product); rank 0 alone computes the validation metrics,
checkpoints, writes the outputs and prints. The saved model equals the
one-process model up to the order of floating-point summation. The methods
that read the data themselves (``kfac``, ``varpro``) are refused there.
"""

import inspect
import json
import math
import re
import shlex
import sys
import time
from math import prod
from pathlib import Path

import numpy as np

from .._files import atomic_path
from ..activations import ACTIVATIONS
from ..datasets import DATASETS, IMAGE_SHAPES, load_dataset, train_val_test_split
from ..network import mlp
from ..spec import parse_spec
from ..objective import Objective
from ..regularizers import Tikhonov
from ._memory import require_memory, training_bytes
from ._parser import (
    CommandError,
    float_range,
    fraction,
    int_list,
    method_name,
    positive_float,
    positive_int,
)
from ._resume import open_run, run_record
from ._training import (
    CLASSIFICATION_LOSSES,
    REGRESSION_LOSSES,
    default_loss,
    encode_targets,
    fold_input_scale,
    fold_standardization,
    infer_task,
    input_scale,
    metrics,
)

__all__ = ["NAME", "HELP", "add_arguments", "run"]

NAME = "train"
HELP = "train a network on a built-in data set or a CSV/NPZ file; save the model and figures"
_METHOD_FLAGS = {"batch_size": "--batch-size", "learning_rate": "--learning-rate"}
DISTRIBUTED = (
    True  # under mpiexec every rank runs train (numnet.cli), each on its shard of the rows
)


def add_arguments(parser):
    parser.add_argument(
        "data",
        nargs="?",
        default=None,
        help=f"a built-in data set ({', '.join(sorted(DATASETS))}) or a .csv/.npz file "
        "(not needed with --resume)",
    )
    parser.add_argument(
        "--target",
        default=None,
        help="CSV target column: a header name or an index (default: the last column)",
    )
    parser.add_argument(
        "--n-samples",
        type=positive_int,
        default=None,
        help="points to draw from a synthetic data set (default: its own)",
    )
    parser.add_argument(
        "--task",
        choices=["auto", "classification", "regression"],
        default="auto",
        help="auto: classification for integer or string labels (default: auto)",
    )
    parser.add_argument(
        "--hidden",
        type=int_list,
        default=None,
        metavar="N[,N...]",
        help="hidden widths of a multi-layer perceptron, e.g. 50,50 (default: 50)",
    )
    parser.add_argument(
        "--activation",
        choices=sorted(ACTIVATIONS),
        default=None,
        help="hidden activation of the perceptron (default: tanh)",
    )
    parser.add_argument(
        "--arch",
        default=None,
        metavar="SPEC",
        help="any architecture instead of --hidden/--activation, e.g. "
        "conv:8x3p1,relu,pool:2,dense:32,relu (tokens: dense:N, conv:FxK[sS][pP], "
        "pool:K, avgpool:K, flatten, dropout:P, residual[:ACT], rnn:H[:seq], "
        "activation names; the output layer is added; see numnet.spec)",
    )
    parser.add_argument(
        "--input-shape",
        type=int_list,
        default=None,
        metavar="H,W,C",
        help="shape of one input row for --arch, channels last: H,W,C for images, "
        "L,C for sequences (default: 8,8,1 for digits, else the feature count)",
    )
    parser.add_argument(
        "--loss",
        choices=sorted(set(CLASSIFICATION_LOSSES + REGRESSION_LOSSES)),
        default=None,
        help="loss (default: cross_entropy for classification, squared_error for regression; "
        "two classes get one output, binary cross-entropy for cross_entropy)",
    )
    parser.add_argument(
        "--method",
        type=method_name,
        default="lbfgs",
        help="a numnet.optim.minimize method (default: lbfgs)",
    )
    parser.add_argument(
        "--max-iter",
        type=positive_int,
        default=200,
        help="iterations (epochs for sgd/adam) (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=None, help="mini-batch rows (sgd, adam)"
    )
    parser.add_argument(
        "--learning-rate", type=positive_float, default=None, help="step size (sgd, adam, gd)"
    )
    parser.add_argument(
        "--alpha",
        type=float_range(0.0, 1e100, why="the line search overflows from about 1e200"),
        default=1e-4,
        help="weight decay ½α‖W‖² on the weights, not the biases (default: %(default)s)",
    )
    parser.add_argument(
        "--val-fraction",
        type=fraction,
        default=0.2,
        help="fraction of rows held out for validation (default: %(default)s)",
    )
    parser.add_argument("--no-standardize", action="store_true", help="train on the raw features")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=None,
        metavar="K",
        help="also checkpoint the run every K iterations into OUT.checkpoint/ (it is always "
        "checkpointed on Ctrl-C, on SIGTERM and at the end)",
    )
    parser.add_argument(
        "--resume",
        default=None,
        metavar="DIR",
        help="continue the run whose --out was DIR with its recorded data, split, network and "
        "method (other values are refused); --max-iter counts all its iterations",
    )
    parser.set_defaults(train_parser=parser)


def _load(args):
    kwargs = {}
    if args.target is not None:
        if args.data in DATASETS or not str(args.data).lower().endswith(".csv"):
            raise CommandError("--target is only used with a .csv file")
        kwargs["target"] = int(args.target) if args.target.lstrip("-").isdigit() else args.target
    if args.n_samples is not None:
        if (
            args.data not in DATASETS
            or "n_samples" not in inspect.signature(DATASETS[args.data]).parameters
        ):
            raise CommandError(
                f"--n-samples is only used with a synthetic data set, not {args.data!r}"
            )
        kwargs["n_samples"] = args.n_samples
    if args.data not in DATASETS and not Path(args.data).is_file():
        raise CommandError(
            f"{args.data!r} is neither a built-in data set ({', '.join(sorted(DATASETS))}) "
            "nor an existing file"
        )
    try:
        return load_dataset(args.data, random_state=args.seed, **kwargs)
    except ValueError as exc:
        raise _flagged(exc, kwargs) from None


def _flagged(exc, kwargs):
    """The loader's error with the argument it starts with (``target=…``, ``n_samples …``) written as the
    flag the user gave; other errors (they name the file) unchanged."""
    text = str(exc)
    for key in kwargs:
        match = re.match(rf"{key}\b=?", text)
        if match:
            return CommandError(f"--{key.replace('_', '-')} " + text[match.end() :].lstrip())
    return exc


def _method_options(args):
    """The method's options given on the command line; refuse those the method does not take."""
    from ..optim import METHODS

    accepted = inspect.signature(METHODS[args.method]).parameters
    options = {}
    for name, flag in _METHOD_FLAGS.items():
        value = getattr(args, name)
        if value is not None:
            if name not in accepted:
                raise CommandError(f"{flag} is not an option of --method {args.method}")
            options[name] = value
    if "seed" in accepted:
        options["seed"] = args.seed
    return options


def _network(args, n_features, n_outputs):
    """The perceptron of --hidden/--activation, or the network of --arch."""
    if args.arch is None:
        return mlp(n_features, args.hidden, n_outputs, args.activation)
    shape = args.input_shape or list(IMAGE_SHAPES.get(args.data, (n_features,)))
    if prod(shape) != n_features:
        raise CommandError(
            f"--input-shape {','.join(map(str, shape))} has {prod(shape)} entries "
            f"but the data have {n_features} features"
        )
    try:
        return parse_spec(args.arch, shape, n_outputs, name="--arch")
    except ValueError as exc:
        raise CommandError(str(exc)) from None


class _Setup:
    """Split, standardized and encoded data with the network and objectives."""

    def __init__(self, X, y, args):
        self.task = infer_task(y) if args.task == "auto" else args.task
        self.loss = args.loss or default_loss(self.task)
        _check_split(y, self.task, args)
        parts = train_val_test_split(
            X,
            y,
            val_fraction=args.val_fraction,
            test_fraction=0.0,
            stratify=self.task == "classification",
            random_state=args.seed,
        )
        self.Xtr, self.ytr, self.Xva, self.yva = parts[:4]
        self.mean, self.scale = self.Xtr.mean(axis=0), self.Xtr.std(axis=0)
        if args.no_standardize:
            self.mean, self.scale = np.zeros_like(self.mean), np.ones_like(self.scale)
        self.scale[self.scale == 0] = 1.0
        tr = encode_targets(self.ytr, self.loss, self.task)
        self.classes, self.n_outputs, self.net_loss = tr.classes, tr.n_outputs, tr.loss
        self.net = _network(args, X.shape[1], tr.n_outputs)
        _check_memory(self.net, len(self.ytr), args)
        if args.arch is not None:  # one scale for all features: foldable into any first layer
            self.mean[...] = 0
            self.scale[...] = input_scale(self.net, self.Xtr) if not args.no_standardize else 1.0
        reg = Tikhonov(args.alpha, mask=~self.net.bias_mask()) if args.alpha > 0 else None
        self.train = Objective(self.net, tr.loss, self._std(self.Xtr), tr.Y, reg)
        self.val = None
        if len(self.yva):
            va = encode_targets(self.yva, self.loss, self.task, self.classes)
            self.val = Objective(self.net, va.loss, self._std(self.Xva), va.Y)

    def _std(self, X):
        return (X - self.mean) / self.scale

    def scores(self, theta):
        out = {"train": metrics(self.train, theta, self.ytr, self.task, self.classes)}
        if self.val is not None:
            out["validation"] = metrics(self.val, theta, self.yva, self.task, self.classes)
        return out


def _check_split(y, task, args):
    """Refuse, naming the flags, a split that leaves no training row or (stratified) misses a class."""
    n = len(y)
    n_val = math.ceil(args.val_fraction * n)
    rows = f"{n} rows" + (" (--n-samples)" if args.n_samples is not None else "")
    if n - n_val < 1:
        raise CommandError(f"--val-fraction {args.val_fraction} of {rows} leaves no training row")
    if task != "classification" or n_val == 0:
        return
    counts = np.unique(np.asarray(y), return_counts=True)[1]
    if min(n_val, n - n_val) < len(counts) or counts.min() < 2:
        raise CommandError(
            f"--val-fraction {args.val_fraction} of {rows} gives {n_val} validation and "
            f"{n - n_val} training rows for {len(counts)} classes (the smallest has "
            f"{counts.min()} rows); a stratified split needs every class on both sides: "
            "more rows, another --val-fraction, or --val-fraction 0"
        )


def _check_memory(net, n_rows, args):
    """Refuse a network whose training cannot fit in memory, before its parameters exist."""
    flag = (
        f"--arch {args.arch}"
        if args.arch is not None
        else f"--hidden {','.join(map(str, args.hidden))}"
    )
    require_memory(
        training_bytes(net, n_rows, args.method),
        f"training the network of {flag} ({net.n_params:,} parameters) with --method {args.method} "
        f"on {n_rows} rows",
    )


def _fit(setup, args, options, folder, resume):
    """Run (or continue, from the checkpoint record ``resume``) the method, checkpointing into ``folder``."""
    from tqdm import tqdm

    from ..optim import METHODS, minimize

    done = 0 if resume is None else min(resume["nit"], args.max_iter)
    bar = tqdm(
        total=args.max_iter,
        initial=done,
        desc=args.method,
        unit="it",
        leave=False,
        disable=args.quiet or not sys.stderr.isatty(),
    )

    root = _root()

    def callback(res):
        info = {}
        if setup.val is not None and root:
            info = {
                f"val_{k}": v
                for k, v in metrics(setup.val, res.x, setup.yva, setup.task, setup.classes).items()
            }
        bar.update(1)
        bar.set_postfix(
            {
                "loss": f"{res.fun:.4g}",
                **{k: f"{v:.3g}" for k, v in info.items() if k in ("val_loss", "val_accuracy")},
            }
        )
        return info

    saving = {}
    if METHODS[args.method].checkpointable:
        saving = {
            "checkpoint": folder.state if root else None,
            "checkpoint_every": args.checkpoint_every or args.max_iter + 1,
            "resume": resume,
        }
    try:
        return minimize(
            _training_objective(setup),
            setup.net.init(args.seed),
            args.method,
            callback=callback,
            max_iter=args.max_iter,
            **saving,
            **options,
        )
    finally:
        bar.close()


def _root():
    """Whether this process prints and writes: always, except on ranks other than 0 under mpiexec."""
    from ..distributed.launch import current

    return current() is None or current().root


def _training_objective(setup):
    """``setup.train``, or under mpiexec this rank's consecutive block of its rows (numnet.distributed)."""
    from ..distributed.launch import current

    if current() is None:
        return setup.train
    from ..distributed import DistributedObjective

    return DistributedObjective.from_objective(setup.train, comm=current().comm)


def _check_distributed_method(args):
    """Under mpiexec, refuse (naming --method) a method that needs all the training rows in one process."""
    from ..distributed.launch import current

    if current() is None:
        return
    from ..distributed import ONE_PROCESS_METHODS
    from ..optim import METHODS

    if args.method in ONE_PROCESS_METHODS:
        usable = ", ".join(m for m in METHODS if m not in ONE_PROCESS_METHODS)
        raise CommandError(
            f"--method {args.method} reads all the training rows in one process and cannot run "
            f"under mpiexec (each rank holds its shard); use one of {usable}"
        )


def _resolve_network_flags(args):
    """--arch excludes --hidden/--activation; without it they default to 50 and tanh."""
    if args.arch is not None and (args.hidden is not None or args.activation is not None):
        raise CommandError(
            "--arch describes the whole network: leave out --hidden and --activation"
        )
    if args.arch is None:
        if args.input_shape is not None:
            raise CommandError("--input-shape is only used with --arch")
        args.hidden = [50] if args.hidden is None else args.hidden
        args.activation = args.activation or "tanh"


def run(args):
    """Train (with --resume: continue) a run and write its outputs under ``args.out`` as one unit.

    Returns 0, or 128 + the signal number (130 for SIGINT, 143 for SIGTERM)
    when a signal interrupts the run, after saying how to resume it.
    """
    from threadpoolctl import threadpool_limits

    from ..optim.checkpoint import interrupts_as_keyboard

    folder = None
    try:
        with interrupts_as_keyboard(True):
            folder, state = open_run(args)
            _resolve_network_flags(args)
            _check_distributed_method(args)
            options = _method_options(args)
            X, y = _load(args)
            setup = _Setup(X, y, args)
            with threadpool_limits(limits=args.threads):
                return _train(setup, args, options, folder, state)
    except KeyboardInterrupt as exc:
        return _interrupted(exc, folder, args)


def _train(setup, args, options, folder, state):
    """Record the run, fit, publish the outputs; print the summary; return 0."""
    from ..optim.checkpoint import read_checkpoint

    if args.resume is None and folder.live.is_dir():
        print(
            f"numnet: note: a new run in {folder.out} replaces the interrupted one in {folder.live} "
            f"(numnet train --resume {shlex.quote(str(folder.out))} would have continued it)",
            file=sys.stderr,
        )
    root = _root()
    if root:
        folder.start(run_record(args), state)
    source = (
        folder.state if root else state
    )  # under mpiexec only rank 0 copies it into the live folder
    resume = None if state is None else read_checkpoint(source, name=f"--resume {args.resume}")
    t0 = time.perf_counter()
    res = _fit(setup, args, options, folder, resume)
    seconds = time.perf_counter() - t0
    if not root:
        return 0
    scores = setup.scores(res.x)
    paths = folder.publish(lambda tmp: _save(setup, res, scores, args, seconds, tmp))
    paths += [folder.out / "checkpoint"] if (folder.out / "checkpoint").is_dir() else []
    print(_summary(setup, res, scores, args, seconds))
    print("wrote: " + ", ".join(str(p) for p in paths))
    return 0


def _interrupted(exc, folder, args):
    """One line on stderr saying where the run stands and how to resume it; 128 + the signal number."""
    from ..optim.checkpoint import interrupt_signal, read_checkpoint

    sig = interrupt_signal(exc)
    if folder is None or not folder.started:
        where = "before training started"
    elif folder.published:
        where = f"after the run finished; its outputs are in {folder.out}"
    else:
        try:
            nit = read_checkpoint(folder.state)["nit"] if folder.state.is_file() else 0
        except ValueError:
            nit = 0
        where = (
            f"after {nit} of {args.max_iter} iterations (checkpoint in {folder.live}); "
            f"resume with: numnet train --resume {shlex.quote(str(folder.out))}"
        )
    print(f"numnet: interrupted by {sig.name} {where}", file=sys.stderr)
    return 128 + int(sig)


def _save(setup, res, scores, args, seconds, out):
    """Write model, figures and report into the folder ``out``; return their paths."""
    from .. import io
    from ..plots import save_figure
    from ._train_figures import decision_figure, loss_figure

    theta = (
        fold_standardization(setup.net, res.x, setup.mean, setup.scale)
        if args.arch is None
        else fold_input_scale(setup.net, res.x, float(setup.scale[0]))
    )
    paths = [io.save((setup.net, theta), out / "model.npz")]
    paths.append(save_figure(loss_figure(res.history, args.method), out / "loss.png"))
    if setup.task == "classification" and setup.Xtr.shape[1] == 2:
        fig = decision_figure(setup.net, theta, setup.Xtr, setup.ytr, setup.classes)
        paths.append(save_figure(fig, out / "decision_boundary.png"))
    report = {
        "data": str(args.data),
        "task": setup.task,
        "loss": setup.loss,
        "network_loss": setup.net_loss,
        "method": args.method,
        "hidden": args.hidden,
        "activation": args.activation,
        "arch": args.arch,
        "alpha": args.alpha,
        "classes": None if setup.classes is None else setup.classes.tolist(),
        "nit": res.nit,
        "status": res.status.name,
        "seconds": seconds,
        "scores": scores,
        "history": res.history,
    }
    with atomic_path(out / "train.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2, default=float))
    return paths + [out / "train.json"]


def _summary(setup, res, scores, args, seconds):
    n_va = 0 if setup.val is None else len(setup.yva)
    what = f"{len(setup.classes)} classes" if setup.classes is not None else "regression"
    arch = args.arch or " → ".join(
        str(w) for w in [setup.Xtr.shape[1], *args.hidden, setup.n_outputs]
    )
    keys = list(scores["train"])
    lines = [
        f"data: {args.data}: {len(setup.ytr)} training rows, {n_va} validation rows, "
        f"{setup.Xtr.shape[1]} features, {what}",
        f"network: {arch}{'' if args.arch else f' ({args.activation})'}, loss {setup.net_loss}, method {args.method}",
        f"stopped after {res.nit} iterations in {seconds:.2f} s: {res.message}",
        f"{'':12}" + "".join(f"{k:>10}" for k in keys),
    ]
    lines += [f"{name:12}" + "".join(f"{s[k]:10.4f}" for k in keys) for name, s in scores.items()]
    return "\n".join(lines)
