"""The fused softmax + cross-entropy of the built-in steps: a `Dense(activation="softmax")` output trained with
(sparse) categorical cross-entropy runs on its logits, as tf.keras did.

Example:
    >>> layer, logits_loss = softmax_cross_entropy_fusion(model)  # None when the model does not qualify
"""


def softmax_cross_entropy_fusion(model):
    """`(output_layer, logits_loss)` when training may use logits: a `Dense(activation="softmax")` output trained
    with a (sparse) categorical cross-entropy on probabilities, and no user override of the step or the loss.

    Keras clips probabilities to `[1e-7, 1 - 1e-7]` before the log; the logits form differs from it only for
    saturated predictions (and is the more accurate of the two there).
    """
    from lamina import activations
    from lamina.trainers.trainer import Trainer
    from lamina import losses as losses_module
    from lamina.layers.core.dense import Dense

    compiled = model._compile_loss
    if compiled is None or compiled.multi or type(model).train_step is not Trainer.train_step:
        return None
    if type(model).compute_loss is not Trainer.compute_loss or type(model).compute_metrics is not Trainer.compute_metrics:
        return None
    loss = compiled.losses[0]
    classes = {losses_module.categorical_crossentropy: losses_module.CategoricalCrossentropy,
               losses_module.sparse_categorical_crossentropy: losses_module.SparseCategoricalCrossentropy}
    if type(loss) is losses_module.LossFunctionWrapper and loss.fn in classes and not loss._fn_kwargs:
        loss = classes[loss.fn](reduction=loss.reduction, name=loss.name)  # the string form, e.g. loss="categorical_crossentropy"
    if type(loss) not in classes.values():
        return None
    if loss.from_logits or loss.axis != -1 or compiled.loss_weights[0] != 1.0:
        return None
    if getattr(loss, "ignore_class", None) is not None:
        return None
    layer = _single_output_layer(model)
    if type(layer) is not Dense or layer.activation is not activations.softmax:
        return None
    config = loss.get_config()
    config["from_logits"] = True
    return layer, type(loss).from_config(config)


def direct_cross_entropy(loss):
    """`(y, logits) -> F.cross_entropy` for the plain case (mean over the batch, no smoothing, 2-D logits), skipping
    the `Loss` wrapper's generic handling; any other case returns the wrapped loss's own result."""
    import torch.nn.functional as F

    from lamina import losses as losses_module

    if loss.reduction != "sum_over_batch_size" or getattr(loss, "label_smoothing", 0.0):
        return None
    if isinstance(loss, losses_module.CategoricalCrossentropy):
        def categorical(y, logits):
            if y.shape != logits.shape or logits.dim() != 2 or y.dtype != logits.dtype:
                return loss(y, logits)
            return F.cross_entropy(logits, y)

        categorical.one_hot_labels = True
        return categorical

    def sparse(y, logits):
        if logits.dim() != 2 or y.shape[0] != logits.shape[0] or y.dim() > 2 or (y.dim() == 2 and y.shape[1] != 1):
            return loss(y, logits)
        return F.cross_entropy(logits, y.reshape(-1).long())

    return sparse


def one_hot_as_class_indices(cache, y):
    """`(labels, loss)` for `evaluate` on in-memory `y`: when the fused loss is the plain categorical
    cross-entropy and every row of `y` is exactly one-hot, the class indices and a cross-entropy on them (the
    same numbers, about half the work per batch); otherwise `(y, None)`. Costs one check of `y` per call.

    Example:
        >>> labels, loss = one_hot_as_class_indices(model._train_cache, y)  # labels[i] == y[i].argmax()
    """
    import torch
    import torch.nn.functional as F

    fusion, direct = cache["softmax_logits"], cache["direct_ce"]
    if direct is None or not getattr(direct, "one_hot_labels", False) or type(y) is not torch.Tensor:
        return y, None
    units = fusion[0].units
    if y.dim() != 2 or y.shape[1] != units or y.shape[0] == 0 or not y.is_floating_point():
        return y, None
    if not bool((((y == 0) | (y == 1)).all(dim=-1) & (y.sum(dim=-1) == 1)).all()):
        return y, None
    loss = fusion[1]

    def class_index_cross_entropy(labels, logits):
        if logits.dim() != 2 or logits.shape[0] != labels.shape[0] or logits.shape[1] != units:
            return loss(F.one_hot(labels, units).to(logits.dtype), logits)  # the loss's own shape error
        return F.cross_entropy(logits, labels)

    return y.argmax(dim=-1), class_index_cross_entropy


def _single_output_layer(model):
    from lamina.models.functional import Functional
    from lamina.models.sequential import Sequential

    if isinstance(model, Sequential):
        return model.layers[-1] if model.layers else None
    if isinstance(model, Functional) and len(model._flat_outputs) == 1:
        layer = model._flat_outputs[0]._keras_history[0]
        used = sum(1 for node in model._nodes if node.layer is layer)
        return layer if used == 1 else None
    return None
