"""`compile(jit_compile=True)`: the train step under `torch.compile`, built once per `compile()`.

The built-in step compiles `Trainer._train_core` (forward, loss, `torch.autograd.grad`, the optimizer's
tensor-code update) as one graph with `fullgraph=True`; metric updates stay eager. The optimizer's per-step
numbers (learning rate, step, bias corrections) come from the host as one small tensor
(`Optimizer.graph_step_inputs`), so the graph does not recompute `beta ** t` for every element.

Guards: each compiled step gets its own copy of `_train_core`'s code object, so dynamo's cache belongs to one
model and one `compile()` call. Within it, dynamo skips its guards on the model's modules (~50 µs per step on
the MLP): as in Keras, changing the model's structure or `trainable` flags takes a new `compile()`, which
builds a new step. A user-defined `train_step` is compiled as a whole with dynamo's usual guards, graph breaks
allowed. If tracing or compiling fails, the step runs eagerly with a warning, decided once per `compile()`.

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
        # dynamic=False: one static graph per batch shape (the last, smaller batch gets its own), which inductor
        # compiles for every layer (symbolic shapes fail in some backward lowerings, e.g. convolution's).
        if type(model).train_step is not Trainer.train_step:
            self._run = torch.compile(model.train_step, dynamic=False)
            return
        self._plain = not (model._scale_loss or model._distribution is not None)
        options = {"guard_filter_fn": torch.compiler.skip_guard_on_all_nn_modules_unsafe} if self._plain else None
        self._core = torch.compile(_own_copy(Trainer._train_core).__get__(model), fullgraph=self._plain,
                                   dynamic=False, options=options)
        self._run = self._builtin_step

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
        return logs


def _not_copied():
    return None


def _own_copy(function):
    """`function` with a code object of its own: dynamo keeps its compiled graphs per code object."""
    code = function.__code__.replace(co_name=f"{function.__name__}_{next(_COPIES)}")
    copy = types.FunctionType(code, function.__globals__, code.co_name, function.__defaults__, function.__closure__)
    copy.__qualname__, copy.__doc__ = function.__qualname__, function.__doc__
    return copy


_COPIES = itertools.count(1)
