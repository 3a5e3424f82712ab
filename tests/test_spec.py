"""numnet.spec: the architecture spec of ``numnet train --arch``, and the command using it."""

import json

import numpy as np
import pytest
from cli_errors import assert_one_line_error

from numnet import load
from numnet.cli import main
from numnet.layers import (
    AvgPool2d,
    Conv1d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    MaxPool2d,
    Recurrent,
    Residual,
)
from numnet.spec import parse_spec


def test_cnn_spec_builds_the_layers_in_order_with_fused_activations():
    net = parse_spec(
        "conv:8x3p1,relu,pool:2,conv:4x3s2,tanh,avgpool:1,flatten,dense:16,relu,dropout:0.25",
        (8, 8, 1),
        10,
    )
    kinds = [type(layer) for layer in net.layers]
    assert kinds == [Conv2d, MaxPool2d, Conv2d, AvgPool2d, Flatten, Dense, Dropout, Dense]
    conv1, conv2 = net.layers[0], net.layers[2]
    assert (
        conv1.activation.name == "relu"
        and conv1.padding == (1, 1)
        and conv1.output_shape == (8, 8, 8)
    )
    assert (
        conv2.stride == (2, 2)
        and conv2.output_shape == (1, 1, 4)
        and conv2.activation.name == "tanh"
    )
    assert net.layers[-1].d_out == 10 and net.layers[-1].activation.name == "identity"
    assert net.layers[6].p == 0.25 and net.d_in == 64


def test_final_dense_without_activation_is_the_output_layer():
    assert len(parse_spec("dense:32,relu,dense:10", (64,), 10).layers) == 2
    assert len(parse_spec("dense:32,relu", (64,), 10).layers) == 2
    assert len(parse_spec("residual:sin", (3,), 2).layers) == 2
    assert isinstance(parse_spec("residual:sin", (3,), 2).layers[0], Residual)


def test_sequence_specs():
    net = parse_spec("conv:4x2,tanh,rnn:5", (6, 2), 1)
    assert isinstance(net.layers[0], Conv1d) and isinstance(net.layers[1], Recurrent)
    assert net.layers[1].n_steps == 5 and net.layers[1].d_x == 4
    seq = parse_spec("rnn:3:seq,dense:1", (4, 2), 1)
    assert seq.layers[0].output == "sequence" and seq.layers[1].d_in == 12


@pytest.mark.parametrize(
    "spec, shape, match",
    [
        ("", (4,), "arch must be a non-empty"),
        ("conv:8", (8, 8, 1), "token 1 'conv:8': expected conv:FxK"),
        ("dense:x", (4,), "token 1 'dense:x': expected a width"),
        ("relu", (4,), "an activation must follow a dense or conv layer"),
        ("dense:3,relu,relu", (4,), "token 3 'relu': an activation must follow"),
        ("pool:2", (4,), "pooling needs image or sequence inputs"),
        ("dense:5", (4,), "final dense:5 is the output layer and must have 10 units"),
        ("foo:1", (4,), "unknown token"),
        ("dropout:1.5", (4,), "p must be a float in"),
        ("conv:8x9", (8, 8, 1), "kernel_size"),
        ("rnn:3", (4,), "rnn needs"),
        ("rnn:3:all", (4, 2), "expected rnn:H or rnn:H:seq"),
        ("dense:0", (4,), "d_out"),
    ],
)
def test_bad_specs_name_the_token(spec, shape, match):
    with pytest.raises(ValueError, match=match):
        parse_spec(spec, shape, 10)


def test_train_with_arch_saves_a_network_for_raw_inputs(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "digits",
            "--arch",
            "conv:4x3p1,relu,pool:2,dense:16,tanh",
            "--max-iter",
            "15",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads((out / "train.json").read_text())
    assert report["arch"] == "conv:4x3p1,relu,pool:2,dense:16,tanh" and report["hidden"] is None
    net, theta = load(out / "model.npz")
    assert isinstance(net.layers[0], Conv2d)
    from numnet.datasets import digits

    X, y = digits()
    accuracy = np.mean(np.argmax(net.predict(theta, X), axis=1) == y)
    assert abs(accuracy - report["scores"]["train"]["accuracy"]) < 0.05  # raw inputs, folded scale
    assert accuracy > 0.8


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--arch", "conv:8"], "--arch: token 1 'conv:8'"),
        (["--arch", "dense:4", "--hidden", "3"], "--arch describes the whole network"),
        (["--input-shape", "8,8,1"], "--input-shape is only used with --arch"),
        (
            ["--arch", "dense:8,relu", "--input-shape", "8,4,1"],
            "--input-shape 8,4,1 has 32 entries",
        ),
    ],
)
def test_train_arch_errors_are_one_line_and_exit_2(argv, match, capsys, tmp_path):
    code = main(["train", "digits", *argv, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and match in err
    assert_one_line_error(err)
