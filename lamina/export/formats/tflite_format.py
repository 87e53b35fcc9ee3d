"""`format="tflite"` (alias `"litert"`): a LiteRT (TFLite) flatbuffer converted with `litert_torch`.

Limits: the shapes are fixed. Unknown dims of the input signature are set at conversion: the batch
axis to `batch_size` (default 1, as Keras does), other unknown axes to 3; feed exactly those shapes
(pad a smaller batch), or pass a static `input_signature`. 64-bit inputs/outputs become 32-bit
(`enable_x64=False`, as LiteRT runtimes expect). Every endpoint becomes a signature (`model.export`
names it `"serving_default"`); inputs are named `args_0`, `args_1`, ... in input order.

Example:
    >>> model.export("mlp.tflite", format="tflite", batch_size=1)  # doctest: +SKIP
    >>> from ai_edge_litert.interpreter import Interpreter
    >>> run = Interpreter(model_path="mlp.tflite").get_signature_runner()
    >>> run(args_0=np.zeros((1, 128), "float32"))["output_0"].shape
    (1, 10)
"""

import contextlib
import os
import re

import numpy as np

from lamina.export import _common
from lamina.export import signature as sig_lib


def write(endpoints, path, batch_size=1, **convert_kwargs):
    """Convert every endpoint (as a signature) into one `.tflite` file at `path`, at a fixed `batch_size`.

    Other keyword args (e.g. `quant_config`, `strict_export`) go to `litert_torch`'s `convert()`.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f'`batch_size` for format="tflite" must be a positive int. Received: batch_size={batch_size!r}')
    litert_torch = _common.require("tflite", "litert_torch")
    _common.require("tflite", "ai_edge_litert.interpreter")
    _common.require_cpu(endpoints, "tflite")
    converter = litert_torch.Converter()
    for name, endpoint in endpoints.items():
        static = sig_lib.static_signature(endpoint.signature, batch_size)
        converter.add_signature(name, endpoint, endpoint.samples(batch_size, signature=static))
    with _no_progress(), _contiguous_weights(endpoints.values()):
        converter.convert(**convert_kwargs).export(path)
    return (batch_size,)


@contextlib.contextmanager
def _contiguous_weights(modules):
    """Weights in plain row-major memory while `litert_torch` converts. lamina keeps recurrent kernels in
    torch's order behind Keras shapes (strided views, see `store_transposed_`); converted from that layout,
    an LSTM model came out wrong by up to ~0.07 for about a third of random weight draws (caught by the
    export's self-check), never with row-major copies. The original storage is put back afterwards."""
    saved = []
    for module in modules:
        for param in module.parameters():
            if not param.is_contiguous() and all(param is not p for p, _ in saved):
                saved.append((param, param.data))
                param.data = param.data.contiguous()
    try:
        yield
    finally:
        for param, data in saved:
            param.data = data


@contextlib.contextmanager
def _no_progress():
    old = os.environ.get("LITERT_TORCH_SHOW_PROGRESS")
    os.environ["LITERT_TORCH_SHOW_PROGRESS"] = "n"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("LITERT_TORCH_SHOW_PROGRESS", None)
        else:
            os.environ["LITERT_TORCH_SHOW_PROGRESS"] = old


def _index(name):
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else 0


def runner(path):
    interpreter_lib = _common.require("tflite", "ai_edge_litert.interpreter")
    interpreter = interpreter_lib.Interpreter(model_path=path)
    runners = {}

    def run(name, inputs):
        if name not in runners:
            runners[name] = interpreter.get_signature_runner(name)
        signature_runner = runners[name]
        details = signature_runner.get_input_details()
        names = sorted(details, key=_index)
        feed = {n: np.asarray(x.cpu().numpy(), dtype=details[n]["dtype"]) for n, x in zip(names, inputs)}
        outputs = signature_runner(**feed)
        return [outputs[k] for k in sorted(outputs, key=_index)]

    return run
