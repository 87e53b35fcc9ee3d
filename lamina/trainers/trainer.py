"""`Trainer`: `compile`, `fit`, `evaluate`, `predict` and the `*_on_batch` / `*_step` methods of `Model`.

The training step reads top to bottom: next batch (already tensors on the model's device), forward,
loss, gradients, optimizer update, metric update. Metric states and the running loss stay tensors;
logs become Python floats only at the end of an epoch, or when a callback or the progress bar reads
them (`_Logs` computes results lazily). Batch-level callback hooks are skipped when no callback
overrides them.

Example:
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=5, validation_split=0.1)
"""

import collections.abc

import torch

from lamina.layers.layer import _LOSSES_ADDED, _hooks_absent
from lamina.layers.symbolic import flatten, map_structure
from lamina.trainers import data_adapters
from lamina.trainers.compile_utils import CompileLoss, CompileMetrics
from lamina.trainers.compiled_step import CompiledTrainStep
from lamina.trainers.softmax_fusion import direct_cross_entropy, one_hot_as_class_indices, softmax_cross_entropy_fusion
from lamina.trainers.data_adapters import unpack_x_y_sample_weight

# The multi-process strategy whose `scope()` is active (set by `lamina.distribute`, which sits above
# the trainer). Models created or compiled in it keep it in `_distribution`; None (the single-process
# case) leaves every code path below exactly as without a strategy.
_DISTRIBUTION = [None]
_LOSS_BLOCK = 1024  # evaluate: batch losses summed into the loss tracker this many at a time


class _Logs(collections.abc.Mapping):
    """Step logs computed on first read: reading them is the only point where metric results are computed."""

    __slots__ = ("_model", "_values")

    def __init__(self, model):
        self._model = model
        self._values = None

    def _get(self):
        if self._values is None:
            self._values = self._model._get_metrics_result()
        return self._values

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())


def _to_float(v):
    if torch.is_tensor(v):
        return float(v.detach().cpu()) if v.numel() == 1 else v.detach().cpu().numpy()
    return v


class Trainer:
    """The training half of `Model` (Keras 3's trainer API)."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self.steps_per_execution = 1
        self.jit_compile = False
        self.run_eagerly = False
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self._compile_config = None
        self._train_cache = None
        self._compiled_step = None
        self._distribution = _DISTRIBUTION[0]
        self._scale_loss = False

    # -- compile ----------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Configure training: optimizer, loss(es), metrics, and how steps run.

        Example:
            >>> model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        """
        from lamina import metrics as metrics_module
        from lamina import optimizers

        self.optimizer = optimizers.get(optimizer)
        if (auto_scale_loss and getattr(self, "_dtype_name", None) == "mixed_float16" and self.optimizer is not None
                and not isinstance(self.optimizer, optimizers.LossScaleOptimizer)):
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer, name="loss_scale_optimizer")
        # The step multiplies the loss by the optimizer's loss scale only when the optimizer divides by one.
        self._scale_loss = self.optimizer is not None and (
            isinstance(self.optimizer, optimizers.LossScaleOptimizer) or self.optimizer.loss_scale_factor is not None)
        output_names = self._compile_output_names()
        self.loss = loss
        self._compile_loss = CompileLoss(loss, loss_weights, output_names) if loss is not None else None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, output_names)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.run_eagerly = run_eagerly
        self.steps_per_execution = int(steps_per_execution)
        self.jit_compile = jit_compile is True
        self._compile_config = {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
                                "metrics": metrics, "weighted_metrics": weighted_metrics, "run_eagerly": run_eagerly,
                                "steps_per_execution": steps_per_execution, "jit_compile": jit_compile}
        self._train_cache = None
        self._compiled_step = None  # jit_compile's step: rebuilt after every compile()
        self.compiled = True
        if _DISTRIBUTION[0] is not None:
            self._distribution = _DISTRIBUTION[0]
        if self._distribution is not None:
            self._distribution._on_compile(self)  # gradients all-reduced inside `optimizer.apply`

    def _compile_output_names(self):
        names = getattr(self, "output_names", None)
        try:
            names = list(names) if names is not None else None
        except TypeError:
            names = None
        return names or ["output"]

    def get_compile_config(self):
        """The arguments given to `compile` (for saving)."""
        return self._compile_config

    def _assert_compiled(self, method):
        if not self.compiled:
            raise RuntimeError(
                f"You must call `compile()` before calling `{method}()`. Example: "
                "model.compile(optimizer='adam', loss='mse')."
            )

    # -- metrics ----------------------------------------------------------------------------------------
    @property
    def metrics(self):
        """The loss tracker, the compiled metrics, and per-output loss trackers (Keras 3's order)."""
        out = []
        if self.compiled:
            out.append(self._loss_tracker)
            if self._compile_metrics is not None and not self._compile_metrics.empty:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        for layer in self._flat_layers():
            if layer is not self:
                out.extend(getattr(layer, "_tracked_metrics", []))
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        """Reset every metric's state (called at the start of each epoch and evaluation)."""
        for m in self.metrics:
            m.reset_state()

    def _get_metrics_result(self):
        logs = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[m.name] = result
        return logs

    def get_metrics_result(self):
        """Current metric values as a dict of Python floats (a device sync)."""
        return {k: _to_float(v) for k, v in self._get_metrics_result().items()}

    # -- steps ------------------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss: compiled loss(es) plus regularization and `add_loss` terms."""
        total = None
        if self._compile_loss is not None and y is not None:
            total = self._compile_loss(y, y_pred, sample_weight)
        for extra in self._extra_losses():
            total = extra if total is None else total + extra
        if total is None:
            if self._compile_loss is None:
                raise ValueError(
                    "No loss to compute. Provide a `loss` argument in `compile()`, or add losses with `add_loss()`."
                )
            raise ValueError("The model was compiled with a loss but no targets `y` were given.")
        return total

    def _extra_losses(self):
        cache = self._train_cache
        if cache is None:
            cache = self._build_train_cache()
        regularized = cache["regularized"]
        out = [reg(w) for w, reg in regularized] if regularized else []
        if _LOSSES_ADDED[0]:
            for layer in cache["layers"]:
                if layer._added_losses:
                    out.extend(layer._added_losses)
        return out

    def _build_train_cache(self):
        from lamina.layers.layer import Layer

        layers = [m for m in self.modules() if isinstance(m, Layer)]
        regularized = []
        for layer in layers:
            for w in layer._own_weights:
                if w.regularizer is not None:
                    regularized.append((w, w.regularizer))
        cache = {"layers": layers, "regularized": regularized, "trainable": self.trainable_weights,
                 "softmax_logits": softmax_cross_entropy_fusion(self),
                 "direct_ce": None,
                 "metrics_need_outputs": self._compile_metrics is None or not self._compile_metrics.empty}
        if cache["softmax_logits"] is not None:
            cache["direct_ce"] = direct_cross_entropy(cache["softmax_logits"][1])
        self._train_cache = cache
        return cache

    def _clear_added_losses(self):
        if _LOSSES_ADDED[0]:
            for layer in (self._train_cache or self._build_train_cache())["layers"]:
                layer._added_losses.clear()
            _LOSSES_ADDED[0] = False

    def _batch_size_of(self, x):
        if type(x) is torch.Tensor and x.dim():  # the common case, without walking a structure
            return x.shape[0]
        for leaf in flatten(x):
            if hasattr(leaf, "shape") and len(leaf.shape):
                return leaf.shape[0]
        return 1

    def train_step(self, data):
        """One optimization step on a batch; returns the logs. Override to customize `fit`."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self._clear_added_losses()
        cache = self._train_cache or self._build_train_cache()
        y_pred, loss = self._forward_and_loss(x, y, sample_weight, cache, training=True)
        self._loss_tracker.update_scalar(loss.detach(), self._batch_size_of(x))
        if self._scale_loss:
            loss = self.optimizer.scale_loss(loss)
        params = cache["trainable"]
        if self._distribution is None:
            grads = torch.autograd.grad(loss, params, allow_unused=True)
        else:  # the strategy differentiates: ModelParallel (FSDP) needs `backward`, which reduce-scatters into `.grad`
            grads = self._distribution._gradients(loss, params)
        self.optimizer.apply(list(grads), params)
        y_pred = y_pred.detach() if type(y_pred) is torch.Tensor else map_structure(_detach, y_pred)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _forward_and_loss(self, x, y, sample_weight, cache, training, direct=None):
        """Forward pass and total loss of the built-in steps.

        A softmax output trained with cross-entropy runs on its logits (`log_softmax` inside the loss, as
        tf.keras did); `y_pred` is then the softmax of the detached logits, for the metrics. `direct` replaces
        the fused loss's plain form (`evaluate` passes the class-index form for one-hot labels).
        """
        fusion = cache["softmax_logits"]
        if fusion is not None and y is not None:
            layer, logits_loss = fusion
            layer.__dict__["_linear_activation"] = True
            try:
                logits = self._call_for_step(x, training)
            finally:
                layer.__dict__["_linear_activation"] = False
            direct = direct or cache["direct_ce"]
            if sample_weight is None and direct is not None and type(y) is torch.Tensor:
                loss = direct(y, logits)
            else:
                loss = logits_loss(y, logits, sample_weight) if sample_weight is not None else logits_loss(y, logits)
            if cache["regularized"] or _LOSSES_ADDED[0]:
                for extra in self._extra_losses():
                    loss = loss + extra
            if cache["metrics_need_outputs"]:
                return torch.softmax(logits.detach(), dim=-1), loss
            return logits, loss  # no compiled metric reads the outputs: skip the softmax
        y_pred = self._call_for_step(x, training)
        return y_pred, self.compute_loss(x, y, y_pred, sample_weight, training=training)

    def _call_for_step(self, x, training):
        """`self(x, training=training)`; when the module mode already says so and the model's `call` ignores
        `training` (Sequential, Functional, or no such argument), `call` directly (no hooks registered) or the
        plain `nn.Module` call."""
        if self.training is training and self.built and self._mode_driven_call:
            if _hooks_absent(self):
                return self.call(x)
            return torch.nn.Module.__call__(self, x)
        return self(x, training=training)

    @property
    def _mode_driven_call(self):
        cls = type(self)
        known = cls.__dict__.get("_mode_driven_call_cache")
        if known is None:
            from lamina.models.functional import Functional
            from lamina.models.sequential import Sequential

            from lamina.layers.layer import Layer

            known = cls.call in (Functional.call, Sequential.call) or not self._signature().training
            for klass in cls.__mro__:  # a user `__call__` override must keep running
                if klass in (Layer, Sequential, Functional):
                    break
                if "__call__" in klass.__dict__:
                    known = False
                    break
            setattr(cls, "_mode_driven_call_cache", known)
        return known

    def test_step(self, data):
        """One evaluation step on a batch; returns the logs. Override to customize `evaluate`."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self._clear_added_losses()
        cache = self._train_cache or self._build_train_cache()
        y_pred, loss = self._forward_and_loss(x, y, sample_weight, cache, training=False)
        self._loss_tracker.update_scalar(loss, self._batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The forward pass for a batch of `predict`."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self._call_for_step(x, False)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with a batch; returns the (lazily computed) logs."""
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return _Logs(self)

    # -- fit --------------------------------------------------------------------------------------------
    def _device_for_data(self):
        for p in self.parameters():
            return p.device
        return None

    def _make_callbacks(self, callbacks, verbose, epochs, steps):
        from lamina.callbacks import CallbackList

        if self._distribution is not None:  # rank != 0: no progress bar, no file writers
            callbacks, verbose = self._distribution._filter_callbacks(callbacks, verbose)
        if isinstance(callbacks, CallbackList):
            return callbacks
        return CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                            verbose=verbose, epochs=epochs, steps=steps)

    def _prepare_training(self, first_batch):
        if not self.built:
            x, _, _ = unpack_x_y_sample_weight(first_batch)
            with torch.no_grad():
                self(x, training=False)
        cache = self._build_train_cache()
        if not self.optimizer.built:
            self.optimizer.build(cache["trainable"])
        if self._distribution is not None:
            self._distribution._sync_model(self)  # every process starts from rank 0's weights
        return cache

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train for `epochs` epochs; returns a `History` whose `.history` holds Keras's keys.

        Example:
            >>> history = model.fit(x_train, y_train, batch_size=32, epochs=5, validation_split=0.2)
        """
        self._assert_compiled("fit")
        verbose = 1 if verbose == "auto" else verbose
        device = self._device_for_data()
        if validation_split and validation_data is None:
            if not data_adapters._is_array_like(x):
                raise ValueError(
                    "`validation_split` is only supported for numpy arrays, tensors and pandas data, not for "
                    f"{type(x).__name__} inputs. Pass `validation_data` instead."
                )
            full = data_adapters.ArrayDataAdapter(x, y, sample_weight, batch_size, False, None, None, device)
            (x, y, sample_weight), validation_data = full.split(validation_split)
        adapter = data_adapters.get_data_adapter(x, y, sample_weight, batch_size, shuffle, class_weight,
                                                 steps_per_epoch, device)
        val_adapter = None
        if validation_data is not None:
            vx, vy, vsw = unpack_x_y_sample_weight(validation_data) if isinstance(validation_data, (tuple, list)) else (validation_data, None, None)
            val_adapter = data_adapters.get_data_adapter(vx, vy, vsw, validation_batch_size or batch_size, False, None,
                                                         validation_steps, device)
        if self._distribution is not None:  # each process takes its slice of every global batch
            adapter = self._distribution._distribute_data(adapter, shuffle, training=True)
            if val_adapter is not None:
                val_adapter = self._distribution._distribute_data(val_adapter, False, training=False)
        callbacks = self._make_callbacks(callbacks, verbose, epochs, adapter.num_batches)
        self.stop_training = False
        self._initial_epoch = None
        callbacks.on_train_begin()
        if self._initial_epoch is not None:  # set by BackupAndRestore when resuming
            initial_epoch = self._initial_epoch
        epoch_logs = {}
        train_hooks = callbacks.needs_train_batch_hooks
        cache = None
        run_step = self._make_train_function()
        spe = self.steps_per_execution
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            self.train()
            logs = None
            batches = enumerate(adapter.epoch()) if spe == 1 else _execution_groups(adapter.epoch(), spe)
            for step, batch in batches:
                if cache is None:
                    cache = self._prepare_training(batch if spe == 1 else batch[0])
                if train_hooks:
                    callbacks.on_train_batch_begin(step)
                logs = run_step(batch)
                if train_hooks:
                    callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            self.eval()
            if logs is None:
                raise ValueError(
                    "Unexpected result of `train_function` (Empty logs). The training data produced no batches: "
                    "check that it is not empty and that `steps_per_epoch` is not larger than the data."
                )
            epoch_logs = self._epoch_logs(logs)
            if val_adapter is not None and self._should_validate(epoch, validation_freq):
                val_logs = self._evaluate_adapter(val_adapter, callbacks=None)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self._distribution is not None:  # every process stops together
                self.stop_training = self._distribution._any(self.stop_training)
            if self.stop_training:
                break
        callbacks.on_train_end(epoch_logs)
        return self.history

    def _make_train_function(self):
        """The callable `fit` runs per dispatch (resolved once per `fit`): `train_step` or its compiled
        form, and with `steps_per_execution=N` a loop over the N batches of one dispatch."""
        step = self._compiled_train_function() if self.jit_compile and not self.run_eagerly else self.train_step
        if self.steps_per_execution == 1:
            return step

        def run_steps(batches):
            for batch in batches:
                logs = step(batch)
            return logs

        return run_steps

    def _train_core(self, x, y, sample_weight, step_inputs=None):
        """Forward, loss, gradients and optimizer update: what `jit_compile=True` captures as one graph.

        `step_inputs`: the optimizer's `graph_step_inputs()` (learning rate, step, bias corrections from the host).
        """
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        scaled = self.optimizer.scale_loss(loss) if self._scale_loss else loss
        params = self._train_cache["trainable"]
        grads = torch.autograd.grad(scaled, params, allow_unused=True)
        if step_inputs is None:
            self.optimizer.apply(list(grads), params)
        else:
            self.optimizer.apply(list(grads), params, _step_inputs=step_inputs)
        return loss.detach(), map_structure(_detach, y_pred)

    def _compiled_train_function(self):
        """`jit_compile=True`: the step under `torch.compile` (see `compiled_step.py`), built once per `compile()`."""
        if self._compiled_step is None or not self._compiled_step.still_valid():
            self._compiled_step = CompiledTrainStep(self)
        return self._compiled_step

    def _epoch_logs(self, logs):
        if self._distribution is not None:  # sum metric states over processes: once per epoch / evaluation
            logs = self._distribution._reduce_logs(self, logs)
        values = dict(logs) if not isinstance(logs, _Logs) else logs._get()
        return {k: _to_float(v) for k, v in values.items()}  # one device sync per epoch

    @staticmethod
    def _should_validate(epoch, validation_freq):
        if isinstance(validation_freq, int):
            return (epoch + 1) % validation_freq == 0
        return (epoch + 1) in validation_freq

    # -- evaluate / predict -----------------------------------------------------------------------------
    def _evaluate_adapter(self, adapter, callbacks):
        self.reset_metrics()
        self.eval()
        logs = None
        hooks = callbacks is not None and callbacks.needs_test_batch_hooks
        if (not hooks and self._plain_tensor_data(adapter, "test_step") and type(adapter.y) is torch.Tensor
                and (adapter.sample_weight is None or type(adapter.sample_weight) is torch.Tensor)):
            return self._evaluate_tensors(adapter.x, adapter.y, adapter.sample_weight, adapter.batch_size)
        with torch.no_grad():
            for step, batch in enumerate(adapter.epoch()):
                if not self.built:
                    self._prepare_training(batch)
                if hooks:
                    callbacks.on_test_batch_begin(step)
                logs = self.test_step(batch)
                if hooks:
                    callbacks.on_test_batch_end(step, logs)
        if logs is None:
            raise ValueError("The evaluation data produced no batches: check that it is not empty.")
        return self._epoch_logs(logs)

    def _plain_tensor_data(self, adapter, step_name):
        """In-memory single-tensor `x`, no `steps`, the built-in step: the per-batch loop can skip its generic parts."""
        step_overridden = getattr(type(self), step_name) is not getattr(Trainer, step_name)
        metrics_overridden = type(self).compute_metrics is not Trainer.compute_metrics
        return (isinstance(adapter, data_adapters.ArrayDataAdapter) and type(adapter.x) is torch.Tensor
                and adapter.steps is None and not step_overridden and not metrics_overridden and self.built
                and getattr(self, "_distribution", None) is None and adapter.num_samples > 0)

    def _evaluate_tensors(self, x, y, sample_weight, batch_size):
        """`evaluate`'s loop for the built-in `test_step` on in-memory tensors (same numbers, less per-batch work):
        one-hot labels of a fused softmax cross-entropy become class indices once per call, and the batch losses
        are summed into the loss tracker in blocks rather than one update per batch."""
        cache = self._train_cache or self._build_train_cache()
        tracker, metrics = self._loss_tracker, self._compile_metrics
        labels, direct = (y, None) if sample_weight is not None else one_hot_as_class_indices(cache, y)
        losses, sizes = [], []
        with torch.no_grad():
            for start in range(0, x.shape[0], batch_size):
                stop = start + batch_size
                xb = x[start:stop]
                swb = None if sample_weight is None else sample_weight[start:stop]
                if _LOSSES_ADDED[0]:
                    self._clear_added_losses()
                y_pred, loss = self._forward_and_loss(xb, labels[start:stop], swb, cache, training=False, direct=direct)
                losses.append(loss)
                sizes.append(xb.shape[0])
                if metrics is not None:
                    metrics.update_state(y[start:stop], y_pred, swb)
                if len(losses) == _LOSS_BLOCK:
                    tracker.update_block(losses, sizes)
                    losses, sizes = [], []
            if losses:
                tracker.update_block(losses, sizes)
        return self._epoch_logs(_Logs(self))

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None, callbacks=None,
                 return_dict=False, **kwargs):
        """Loss and metrics on the given data: a scalar, a list (loss first) or a dict with `return_dict=True`."""
        self._assert_compiled("evaluate")
        verbose = 1 if verbose == "auto" else verbose
        adapter = data_adapters.get_data_adapter(x, y, sample_weight, batch_size, False, None, steps, self._device_for_data())
        if self._distribution is not None:
            adapter = self._distribution._distribute_data(adapter, False, training=False)
        callbacks = self._make_callbacks(callbacks, verbose, 1, adapter.num_batches)
        callbacks.on_test_begin()
        logs = self._evaluate_adapter(adapter, callbacks)
        callbacks.on_test_end(logs)
        if return_dict:
            return logs
        return self._flatten_logs(logs)

    def _flatten_logs(self, logs):
        order = ["loss"]
        if self._compile_loss is not None:
            order += [m.name for m in self._compile_loss.metrics]
        ordered = [logs[k] for k in order if k in logs] + [v for k, v in logs.items() if k not in order]
        return ordered[0] if len(ordered) == 1 else ordered

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for `x` as numpy arrays (a list or dict of them for multi-output models)."""
        verbose = 1 if verbose == "auto" else verbose
        adapter = data_adapters.get_data_adapter(x, None, None, batch_size, False, None, steps, self._device_for_data())
        shard = None
        if self._distribution is not None:  # each process predicts its block of the samples; gathered below
            adapter, shard = self._distribution._predict_shard(adapter)
        callbacks = self._make_callbacks(callbacks, verbose, 1, adapter.num_batches)
        callbacks.on_predict_begin()
        hooks = callbacks.needs_predict_batch_hooks  # read after the begin hook, which may change listeners
        self.eval()
        outputs = []
        if not hooks and self._plain_tensor_data(adapter, "predict_step"):
            x, b = adapter.x, adapter.batch_size
            call = self.call if self._mode_driven_call and _hooks_absent(self) else None
            with torch.no_grad():  # built-in step on in-memory tensors: slice and call, nothing else per batch
                if call is not None:  # the model's mode is already eval(): `call` directly
                    outputs = [call(x[start:start + b]) for start in range(0, x.shape[0], b)]
                else:
                    outputs = [self._call_for_step(x[start:start + b], False) for start in range(0, x.shape[0], b)]
        with torch.no_grad():
            for step, batch in enumerate(adapter.epoch() if not outputs else ()):
                if hooks:
                    callbacks.on_predict_batch_begin(step)
                out = self.predict_step(batch)
                outputs.append(out)
                if hooks:
                    callbacks.on_predict_batch_end(step, {"outputs": out})
        callbacks.on_predict_end()
        if not outputs:
            raise ValueError("The prediction data produced no batches: check that `x` is not empty.")
        result = _concat_outputs(outputs)
        return result if shard is None else self._distribution._gather_predictions(result, shard)

    # -- *_on_batch ---------------------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the loss (and metrics)."""
        self._assert_compiled("train_on_batch")
        adapter = data_adapters.get_data_adapter(x, y, sample_weight, None, False, class_weight, None, self._device_for_data())
        adapter.batch_size = max(adapter.num_samples, 1)
        batch = next(iter(adapter.epoch()))
        self._prepare_training(batch)
        self.reset_metrics()  # as Keras: the returned values describe this batch only
        self.train()
        try:
            logs = self.train_step(batch)
        finally:
            self.eval()
        logs = self._epoch_logs(logs)
        return logs if return_dict else self._flatten_logs(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics on one batch."""
        self._assert_compiled("test_on_batch")
        adapter = data_adapters.get_data_adapter(x, y, sample_weight, None, False, None, None, self._device_for_data())
        adapter.batch_size = max(adapter.num_samples, 1)
        batch = next(iter(adapter.epoch()))
        self.reset_metrics()
        self.eval()
        with torch.no_grad():
            logs = self.test_step(batch)
        logs = self._epoch_logs(logs)
        return logs if return_dict else self._flatten_logs(logs)

    def predict_on_batch(self, x):
        """Model outputs for one batch, as numpy."""
        self.eval()
        x = data_adapters.to_tensors(x, self._device_for_data())
        with torch.no_grad():
            return _concat_outputs([self.predict_step((x,))])


def _execution_groups(batches, n):
    """`(index of the group's last step, [up to n batches])` for `steps_per_execution=n`."""
    group, step = [], -1
    for step, batch in enumerate(batches):
        group.append(batch)
        if len(group) == n:
            yield step, group
            group = []
    if group:
        yield step, group


def _detach(t):
    return t.detach() if torch.is_tensor(t) else t


def _concat_outputs(outputs):
    first = outputs[0]
    if isinstance(first, dict):
        return {k: _concat_outputs([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return [_concat_outputs([o[i] for o in outputs]) for i in range(len(first))]
    return torch.cat([o.detach() for o in outputs]).cpu().numpy()
