"""`compile(jit_compile=True)`: the train step under `torch.compile`, built once per `compile()`.

The built-in step compiles `Trainer._train_core` (forward, loss, `torch.autograd.grad`, the optimizer's
tensor-code update) as one graph with `fullgraph=True`; metric updates stay eager. The optimizer's per-step
numbers (learning rate, step, bias corrections) come from the host as one small tensor
(`Optimizer.graph_step_inputs`), so the graph does not recompute `beta ** t` for every element.

Guards: each compiled step gets its own copy of `_train_core`'s code object, so dynamo's cache belongs to one
model and one `compile()` call. Within it, dynamo checks only the guards of `_step_guards` (the batch, torch's
global state, global constants), not those on the model, its weights and optimizer (~60 µs per step on the
MLP): as in Keras, changing the model's structure, `trainable` flags or optimizer settings other than the
learning rate takes a new `compile()`, which builds a new step. `fit` rebuilds the step by itself when the
trainable weights moved to another device or changed dtype or shape (`CompiledTrainStep.still_valid`).
A user-defined `train_step` is compiled as a whole with dynamo's usual guards, graph breaks allowed. If
tracing or compiling fails, the step runs eagerly with a warning, decided once per `compile()`.

Example:
    >>> model.compile("adam", "categorical_crossentropy", jit_compile=True)
    >>> model.fit(x, y)   # the first batch compiles (seconds); later batches and fits reuse the graph
"""

import itertools
import types
import warnings

import torch

from lamina.trainers.data_adapters import unpack_x_y_sample_weight


class CompiledTrainStep:
    """The callable `fit` runs per batch under `jit_compile=True`; kept on the model until the next `compile()`.

    Example:
        >>> step = CompiledTrainStep(model)
        >>> logs = step((x_batch, y_batch))
    """

    def __init__(self, model):
        from lamina.trainers.trainer import Trainer

        torch._dynamo.config.trace_autograd_ops = True  # `torch.autograd.grad` inside the graph
        self.model = model
        self.failed = False
        self._checked = False
        self._signature = None
        # dynamic=False: one static graph per batch shape (the last, smaller batch gets its own), which inductor
        # compiles for every layer (symbolic shapes fail in some backward lowerings, e.g. convolution's).
        if type(model).train_step is not Trainer.train_step:
            self._run = torch.compile(model.train_step, dynamic=False)
            return
        self._plain = not (model._scale_loss or model._distribution is not None)
        options = {"guard_filter_fn": _step_guards} if self._plain else None
        self._core = torch.compile(_own_copy(Trainer._train_core).__get__(model), fullgraph=self._plain,
                                   dynamic=False, options=options)
        self._run = self._builtin_step

    def still_valid(self):
        """False when the trainable weights were moved, cast, reshaped or replaced since the step was traced."""
        return self._signature is None or self._signature == _weights_signature(self.model)

    def __reduce__(self):
        return _not_copied, ()  # pickling or deep-copying the model drops the compiled step (rebuilt on use)

    def _builtin_step(self, data):
        model = self.model
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        model._clear_added_losses()
        optimizer = model.optimizer
        inputs = optimizer.graph_step_inputs() if self._plain else None
        loss, y_pred = self._core(x, y, sample_weight, inputs)
        if inputs is not None:
            optimizer.count_graph_step()
        model._loss_tracker.update_scalar(loss, model._batch_size_of(x))
        return model.compute_metrics(x, y, y_pred, sample_weight)

    def __call__(self, data):
        if self._checked:
            return self._run(data)
        try:
            logs = self._run(data)
        except Exception as e:  # compilation failed: the first call traces the step
            warnings.warn(f"`jit_compile=True`: torch.compile could not compile the train step "
                          f"({type(e).__name__}: {str(e)[:300]}); running it eagerly.")
            self.failed = True
            self._run = self.model.train_step
            logs = self._run(data)
        self._checked = True
        self._signature = _weights_signature(self.model)
        return logs


_STEP_ARGUMENTS = ("x", "y", "sample_weight", "step_inputs")
_STEP_ARGUMENT_PARTS = tuple(name + tail for name in _STEP_ARGUMENTS for tail in ("[", "."))


def _step_guards(entries):
    """Which of dynamo's guards a built-in compiled step keeps: those on the batch (shapes, dtypes: the short last
    batch gets its own graph), torch's global state (grad mode, default device, ...) and global constants (e.g.
    `backend.epsilon()`). Dropped: guards on the model, its layers, weights and optimizer (fixed until the next
    `compile()`, as in Keras), and on code identity (modules, functions)."""
    return [entry.name in _STEP_ARGUMENTS or entry.name.startswith(_STEP_ARGUMENT_PARTS) or not entry.name
            or (entry.is_global and entry.guard_type == "CONSTANT_MATCH") for entry in entries]


def _weights_signature(model):
    weights = model.trainable_weights
    return id(model.optimizer), tuple((id(w), w.device, w.dtype, tuple(w.shape)) for w in weights)


def _not_copied():
    return None


def _own_copy(function):
    """`function` with a code object of its own: dynamo keeps its compiled graphs per code object."""
    code = function.__code__.replace(co_name=f"{function.__name__}_{next(_COPIES)}")
    copy = types.FunctionType(code, function.__globals__, code.co_name, function.__defaults__, function.__closure__)
    copy.__qualname__, copy.__doc__ = function.__qualname__, function.__doc__
    return copy


_COPIES = itertools.count(1)
