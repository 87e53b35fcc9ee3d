"""What `compile()` resolves once: losses and metrics per output, loss weights, and `"accuracy"`.

`CompileLoss` turns `loss=` (a name, function, `Loss`, or a list/dict per output) into one callable
returning the weighted total, and keeps a running mean per output (`out_a_loss`) for multi-output
models. `CompileMetrics` builds metrics on the first batch, once the shapes of `y_true`/`y_pred` are
known (needed to resolve `"accuracy"` as Keras does).

Example:
    >>> loss = CompileLoss("mse", output_names=["dense"])
    >>> total = loss(y_true, y_pred)
"""




def _as_list(structure, output_names, what):
    """Align a per-output structure (single, list or dict) with the flat outputs."""
    n = len(output_names)
    if isinstance(structure, dict):
        unknown = [k for k in structure if k not in output_names]
        if unknown:
            raise ValueError(
                f"In the dict argument `{what}`, key(s) {unknown} do not correspond to any model output. "
                f"Received: {what}={structure}; the model's output names are {output_names}."
            )
        return [structure.get(name) for name in output_names]
    if isinstance(structure, (list, tuple)):
        if n == 1 and what == "metrics":
            return [list(structure)]
        if len(structure) != n:
            raise ValueError(
                f"For a model with {n} output(s), `{what}` should be a list of {n} entries (one per output). "
                f"Received: {what}={structure}"
            )
        return list(structure)
    return [structure] * n if what != "loss" or n == 1 else [structure] * n


def _flat_targets(y, output_names):
    if isinstance(y, dict):
        missing = [k for k in output_names if k not in y]
        if missing:
            raise ValueError(f"The target dict is missing key(s) {missing}; the model's outputs are {output_names}.")
        return [y[k] for k in output_names]
    if isinstance(y, (list, tuple)):
        return list(y)
    return [y]


def _flat_outputs(y_pred, output_names):
    if isinstance(y_pred, dict):
        return [y_pred[k] for k in output_names]
    if isinstance(y_pred, (list, tuple)):
        return list(y_pred)
    return [y_pred]


def _loss_name(fn):
    name = getattr(fn, "name", None) or getattr(fn, "__name__", None)
    return name or type(fn).__name__


class CompileLoss:
    """The compiled loss: `total = sum(w_i * loss_i(y_i, y_pred_i, sample_weight))` over outputs."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        from lamina import losses as losses_module

        self.output_names = list(output_names or ["output"])
        self.multi = len(self.output_names) > 1
        per_output = _as_list(loss, self.output_names, "loss")
        self.losses = [None if l is None else _resolve_loss(l, losses_module) for l in per_output]
        if all(l is None for l in self.losses):
            raise ValueError(f"`loss` must resolve to at least one loss function. Received: loss={loss}")
        weights = [1.0] * len(self.output_names) if loss_weights is None else _as_list(loss_weights, self.output_names, "loss_weights")
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.trackers = []
        if self.multi:
            from lamina.metrics import Mean

            self.trackers = [Mean(name=f"{name}_loss") if l is not None else None
                             for name, l in zip(self.output_names, self.losses)]

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.multi:
            loss = self.losses[0](y_true, y_pred, sample_weight) if sample_weight is not None else self.losses[0](y_true, y_pred)
            w = self.loss_weights[0]
            return loss if w == 1.0 else loss * w
        ys = _flat_targets(y_true, self.output_names)
        preds = _flat_outputs(y_pred, self.output_names)
        sws = _flat_targets(sample_weight, self.output_names) if isinstance(sample_weight, (list, tuple, dict)) else [sample_weight] * len(preds)
        total = None
        batch = None
        for fn, w, yt, yp, sw, tracker in zip(self.losses, self.loss_weights, ys, preds, sws, self.trackers):
            if fn is None or yt is None:
                continue
            value = fn(yt, yp, sw) if sw is not None else fn(yt, yp)
            if batch is None:
                batch = yp.shape[0]
            if value.dim() == 0:  # the usual reduced loss: two in-place adds (also traceable by torch.compile)
                tracker.update_scalar(value.detach(), batch)
            else:
                tracker.update_state(value, sample_weight=batch)
            value = value * w if w != 1.0 else value
            total = value if total is None else total + value
        return total

    @property
    def metrics(self):
        return [t for t in self.trackers if t is not None]


def _resolve_loss(identifier, losses_module):
    fn = losses_module.get(identifier)
    if isinstance(fn, type):
        fn = fn()
    if not hasattr(fn, "reduction"):  # a plain function: wrap so that sample weights and reduction apply
        fn = losses_module.LossFunctionWrapper(fn, name=getattr(fn, "__name__", None))
    return fn


def _resolve_metric(identifier, y_true, y_pred, loss_fn):
    from lamina import metrics as metrics_module

    if isinstance(identifier, str) and identifier in ("accuracy", "acc"):
        return _accuracy_for(identifier, y_true, y_pred, metrics_module)
    if isinstance(identifier, str) and identifier in ("crossentropy", "ce"):
        cls = _crossentropy_for(y_true, y_pred, metrics_module)
        return cls(name=identifier)
    metric = metrics_module.get(identifier)
    if isinstance(metric, type):
        metric = metric()
    if isinstance(metric, metrics_module.Metric):
        if isinstance(identifier, str):
            metric.name = identifier  # Keras names a metric given as a string by that string ("mae")
        return metric
    name = identifier if isinstance(identifier, str) else getattr(metric, "__name__", None)
    return metrics_module.MeanMetricWrapper(metric, name=name)


def _is_binary(y_pred):
    return y_pred.dim() <= 1 or y_pred.shape[-1] == 1


def _is_sparse(y_true, y_pred):
    return y_true.dim() == y_pred.dim() - 1 or (y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1 and y_pred.shape[-1] != 1)


def _accuracy_for(name, y_true, y_pred, metrics_module):
    if _is_binary(y_pred):
        return metrics_module.BinaryAccuracy(name=name)
    if _is_sparse(y_true, y_pred):
        return metrics_module.SparseCategoricalAccuracy(name=name)
    return metrics_module.CategoricalAccuracy(name=name)


def _crossentropy_for(y_true, y_pred, metrics_module):
    if _is_binary(y_pred):
        return metrics_module.BinaryCrossentropy
    if _is_sparse(y_true, y_pred):
        return metrics_module.SparseCategoricalCrossentropy
    return metrics_module.CategoricalCrossentropy


class CompileMetrics:
    """Compiled metrics per output, built on the first batch; names prefixed by output for multi-output models."""

    def __init__(self, metrics=None, weighted_metrics=None, output_names=None):
        self.output_names = list(output_names or ["output"])
        self.multi = len(self.output_names) > 1
        self._spec = _as_list(metrics, self.output_names, "metrics") if metrics is not None else [None] * len(self.output_names)
        self._weighted_spec = (_as_list(weighted_metrics, self.output_names, "metrics")
                               if weighted_metrics is not None else [None] * len(self.output_names))
        self.built = False
        self.entries = []  # (output index, metric, uses sample weight)
        self.name = "compile_metrics"

    @property
    def empty(self):
        return all(s in (None, []) for s in self._spec + self._weighted_spec)

    def build(self, y_true, y_pred):
        ys = _flat_targets(y_true, self.output_names)
        preds = _flat_outputs(y_pred, self.output_names)
        entries = []
        for i, (spec, wspec) in enumerate(zip(self._spec, self._weighted_spec)):
            for weighted, group in ((False, spec), (True, wspec)):
                if group is None:
                    continue
                group = group if isinstance(group, (list, tuple)) else [group]
                for identifier in group:
                    if identifier is None:
                        continue
                    metric = _resolve_metric(identifier, ys[i], preds[i], None)
                    if self.multi:
                        metric.name = f"{self.output_names[i]}_{metric.name}"
                    entries.append((i, metric, weighted))
        device = preds[0].device
        for _, metric, _ in entries:
            if hasattr(metric, "to") and device.type != "cpu":
                metric.to(device)
        self.entries = entries
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if not self.entries:
            return
        if self.multi:
            ys = _flat_targets(y_true, self.output_names)
            preds = _flat_outputs(y_pred, self.output_names)
            sws = _flat_targets(sample_weight, self.output_names) if isinstance(sample_weight, (list, tuple, dict)) else [sample_weight] * len(preds)
            for i, metric, weighted in self.entries:
                metric.update_state(ys[i], preds[i], sws[i] if weighted else None)
        else:
            for _, metric, weighted in self.entries:
                metric.update_state(y_true, y_pred, sample_weight if weighted else None)

    def reset_state(self):
        for _, metric, _ in self.entries:
            metric.reset_state()

    def result(self):
        return {metric.name: metric.result() for _, metric, _ in self.entries}

    @property
    def metrics(self):
        return [m for _, m, _ in self.entries]
