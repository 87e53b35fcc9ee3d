"""`ModelParallel`: fully sharded data parallelism (torch FSDP2, `fully_shard`) for models too big for one device.

A `DataParallel` strategy whose models are sharded: each trainable weight (a Keras-shaped
`Variable`) becomes a `ShardedVariable`, a DTensor split along its first axis, so each of the
N processes stores 1/N of the weights and of the optimizer state (ZeRO-3). The script is the
one you would write for `DataParallel`:

    strategy = lamina.distribute.ModelParallel()
    with strategy.scope():
        model = make_model()                       # built (Input or input_shape): sharded at compile
        model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=64, epochs=5)       # 64 = the global batch, split across processes
    model.save("m.keras")                          # every process calls it: a normal Keras file

What happens:
- At `compile` (or, for a model built by `fit`, when `fit` builds it) rank 0's weights are
  broadcast, then `torch.distributed.fsdp.fully_shard` is applied to every layer that owns
  weights, and to the model. A layer's forward all-gathers its weights (freed again after the
  forward; gathered once more in backward), so only one layer's full weights exist at a time.
- The training step differentiates with `loss.backward()` (FSDP reduce-scatters each gradient
  into its shard); the optimizer updates the local shards with the same `torch._foreach_*`
  rule, its slots created from the sharded weights and therefore sharded too. Gradients are
  weighted by each process's share of the global batch, so updates equal a single-process run.
- Weights stay Keras-shaped (`w.shape`, `count_params()`, `get_config()` unchanged); reading a
  value (`get_weights()`, `w.numpy()`, `model.save`, `save_weights`, checkpoints) gathers the
  full tensor, which is a collective: **every process must make the same call** (as with torch's
  full state dicts). Writing (`set_weights`, `load_weights`, `assign`) takes full values and
  keeps the local shard, with no communication.
- Every trainable weight is sharded. Non-trainable weights (e.g. BatchNormalization's moving
  statistics, updated in place by the forward) stay whole on every process, as in `DataParallel`
  (each process updates them from its own slice; rank 0's are the ones saved). Set `trainable`
  before `compile`. Scalar (0-d) trainable weights and weight regularizers are rejected with a
  `ValueError` (both would need the whole weight on every process).

Differences from `DataParallel`: `jit_compile=True` is ignored (FSDP's hooks run eagerly);
saving is collective, so `ModelCheckpoint` runs on every process (each writes the same file,
atomically) and `BackupAndRestore` on every process gathers while rank 0 writes; `predict`
must be called on every process; a custom `train_step` must use `loss.backward()` and read
`v.grad` (FSDP does not see `torch.autograd.grad`); every evaluation batch must hold at least
one sample per process (else a `ValueError` on every rank, rather than a hang); mixed precision
and loss scaling are not supported. On one process (no launcher) the strategy changes nothing.

Example:
    >>> strategy = lamina.distribute.ModelParallel()
    >>> strategy.num_replicas_in_sync
    1
"""

import warnings

import torch
from torch.distributed.tensor import DTensor

from lamina.callbacks import Callback
from lamina.distribute.data import ShardedAdapter, _leading_size
from lamina.distribute.strategy import DataParallel
from lamina.saving.weights_h5 import state_to_bytes
from lamina.trainers.data_adapters import unpack_x_y_sample_weight

__all__ = ["ModelParallel", "ShardedVariable"]


class ShardedVariable(DTensor):
    """A layer weight (or optimizer slot) sharded along its first axis across the processes.

    Keras's `Variable` API on a DTensor: `shape`, `name`, `path`, `trainable`, `numpy()`,
    `assign()`. Reads (`numpy()`, `detach()`, `value`) return the full, gathered tensor: a
    collective that every process must call. Writes (`assign`, `copy_` of a full tensor) keep
    this process's shard. `to_local()` is the shard this process stores.

    Example:
        >>> w = model.layers[0].kernel        # after sharding, on 2 processes
        >>> w.shape, w.to_local().shape
        (torch.Size([6, 8]), torch.Size([3, 8]))
    """

    __slots__ = ()

    @property
    def name(self):
        """The variable's short name, e.g. `"kernel"`."""
        return self.__dict__.get("_keras_name")

    @name.setter
    def name(self, value):
        self.__dict__["_keras_name"] = value

    @property
    def trainable(self):
        return self.__dict__.get("_keras_trainable", self.requires_grad)

    @trainable.setter
    def trainable(self, value):
        self.__dict__["_keras_trainable"] = bool(value)
        self.requires_grad_(bool(value))

    @property
    def value(self):
        """The full value (gathered)."""
        return self.detach()

    def full(self):
        """The full tensor, gathered from every process (a collective)."""
        with torch.no_grad():
            return self.full_tensor()

    def detach(self):
        """The full tensor, detached: what `get_weights()` and saving read (a collective)."""
        return self.full().detach()

    def numpy(self, force=False):
        """A numpy copy of the full value (a collective)."""
        return self.full().cpu().numpy().copy()

    def copy_(self, src, non_blocking=False):
        """Copy a full-size tensor (this process keeps its shard of it) or a DTensor laid out like this one."""
        if not isinstance(src, DTensor):
            src = _local_shard(torch.as_tensor(src).to(dtype=self.dtype, device=self.device), self)
        return super().copy_(src, non_blocking)

    def assign(self, value):
        """Set the full value in place (this process keeps its shard). Returns the variable."""
        value = torch.as_tensor(value)
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(
                f"The shape of the target variable and the shape of the target value in `variable.assign(value)` "
                f"must match. variable.shape={tuple(self.shape)}, Received: value.shape={tuple(value.shape)}. "
                f"Target variable: {self.name}"
            )
        with torch.no_grad():
            self.copy_(value)
        return self

    def assign_add(self, delta):
        with torch.no_grad():
            super().add_(_local_shard(torch.as_tensor(delta).to(self.dtype).expand(self.shape), self))
        return self

    def assign_sub(self, delta):
        with torch.no_grad():
            super().sub_(_local_shard(torch.as_tensor(delta).to(self.dtype).expand(self.shape), self))
        return self

    def __repr__(self):
        return (f"<ShardedVariable path={self.__dict__.get('path')}, shape={tuple(self.shape)}, "
                f"local_shape={tuple(self.to_local().shape)}, dtype={str(self.dtype).replace('torch.', '')}>")


def _local_shard(full, like):
    """This process's piece of the full tensor `full`, laid out like the DTensor `like` (no communication)."""
    from torch.distributed.tensor import distribute_tensor

    return distribute_tensor(full, like.device_mesh, like.placements, src_data_rank=None)


def _shardable(w):
    """Whether a weight is sharded: every trainable one (the optimizer's foreach ops cannot mix DTensors and tensors)."""
    return w.requires_grad and w.is_floating_point()


def _check_shardable(model, weights):
    for w in weights:
        where = f"weight '{getattr(w, 'path', None) or tuple(w.shape)}' of model '{model.name}'"
        if w.dim() == 0:
            raise ValueError(f"lamina.distribute.ModelParallel cannot shard the scalar (0-d) trainable {where}. "
                             "Give it shape (1,), freeze it (trainable=False), or use DataParallel.")
        if getattr(w, "regularizer", None) is not None:
            raise ValueError(f"lamina.distribute.ModelParallel does not support weight regularizers (the {where} "
                             "has one): the penalty needs the whole weight. Add the penalty to the loss, or use "
                             "DataParallel.")


class ModelParallel(DataParallel):
    """Fully sharded data parallelism: weights, gradients and optimizer state split across processes (FSDP2).

    Args:
        devices: Ignored (one device per process: the process's GPU `LOCAL_RANK` with NCCL, else CPU).
        timeout: Seconds a collective may wait for the other processes before failing.
        backend: `"gloo"`, `"nccl"`, or None: NCCL when CUDA is available, else gloo.
        reshard_after_forward: Free each layer's gathered weights after its forward and gather them
            again in backward (least memory, default), or keep them until the backward (less communication).
        **kwargs: Keras arguments with no meaning here (`device_mesh`, `layout_map`, `batch_dim_name`, ...)
            are accepted and ignored: weights are always sharded along their first axis.

    Example:
        >>> strategy = lamina.distribute.ModelParallel()
        >>> with strategy.scope():
        ...     model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1)])
        ...     model.compile("sgd", "mse")
    """

    _IGNORED = DataParallel._IGNORED + ("layout_map", "batch_dim_name")

    def __init__(self, devices=None, timeout=1800, backend=None, reshard_after_forward=True, **kwargs):
        super().__init__(devices=devices, timeout=timeout, backend=backend, **kwargs)
        self.reshard_after_forward = bool(reshard_after_forward)
        self._mesh = None

    @property
    def device_mesh(self):
        """The 1-d `DeviceMesh` of all processes (created on first use)."""
        if self._mesh is None:
            from torch.distributed.device_mesh import init_device_mesh

            self._mesh = init_device_mesh(self.device.type, (self.num_replicas_in_sync,))
        return self._mesh

    # -- trainer hooks ------------------------------------------------------------------------------------
    def _on_compile(self, model):
        if self.device.type != "cpu":
            model.to(self.device)
        if model.jit_compile:
            warnings.warn("lamina.distribute.ModelParallel: `jit_compile=True` is ignored (FSDP runs eagerly).")
            model.jit_compile = False
        if model._scale_loss:
            raise ValueError("lamina.distribute.ModelParallel does not support loss scaling (`loss_scale_factor`, "
                             "mixed_float16's LossScaleOptimizer). Compile with a plain optimizer.")
        if model.built and model.__dict__.get("_lamina_sharded") is not self:
            self._shard(model)
        elif model.optimizer is not None:
            self._shard_optimizer(model.optimizer)

    def _gradients(self, loss, params):
        """`backward` (FSDP reduce-scatters into each shard's `.grad`), each process weighted by its share."""
        world = self.num_replicas_in_sync
        weight = self._grad_weights.popleft() if self._grad_weights else 1.0 / world
        (loss * (weight * world)).backward()  # FSDP averages over processes: weight * world / world
        grads = []
        for p in params:
            grads.append(p.grad)
            p.grad = None
        return grads

    def _distribute_data(self, adapter, shuffle=False, training=True):
        if training:  # a final batch smaller than the job is skipped on every rank: collectives stay matched
            return super()._distribute_data(adapter, shuffle, training)
        return _EvaluationShards(adapter, self, shuffle=False, seed=0, training=False)

    def _predict_shard(self, adapter):
        # Every forward all-gathers the sharded weights, so every rank runs the same batches: the whole input.
        return adapter, None

    def _sync_model(self, model):
        if model.__dict__.get("_lamina_sharded") is not self:  # built by `fit`: shard it now
            self._shard(model)
            return
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            self._shard_optimizer(optimizer)  # slots created from sharded weights: give them the Variable API
        self._broadcast(self._replicated_state(model), "broadcasting rank 0's weights")

    def _filter_callbacks(self, callbacks, verbose):
        """Ranks other than 0: no progress bar or logs. Saving gathers weights (a collective), so checkpoints run
        on every rank: `ModelCheckpoint` as is (every rank writes the same file atomically), `BackupAndRestore`
        restoring and gathering at each save, while rank 0 alone writes and deletes the backup."""
        if self.rank == 0:
            return callbacks, verbose
        from lamina.callbacks import BackupAndRestore, CallbackList, CSVLogger, ProgbarLogger, TensorBoard

        def keep(cbs):
            return [_GatherOnlyBackup(cb) if isinstance(cb, BackupAndRestore) else cb
                    for cb in cbs if not isinstance(cb, (CSVLogger, TensorBoard, ProgbarLogger))]

        if isinstance(callbacks, CallbackList):
            callbacks.callbacks = keep(callbacks.callbacks)
            callbacks._refresh_listeners()
            return callbacks, 0
        if callbacks is None:
            return None, 0
        flat = []
        for cb in callbacks if isinstance(callbacks, (list, tuple)) else [callbacks]:
            flat.extend(cb if isinstance(cb, (list, tuple)) else [cb])
        return keep(flat), 0

    # -- sharding ----------------------------------------------------------------------------------------
    def _shard(self, model):
        """Broadcast rank 0's full weights, then `fully_shard` every layer owning weights, and the model."""
        from torch.distributed.fsdp import fully_shard

        from lamina.layers.layer import Layer, _structure_changed

        DataParallel._sync_model(self, model)  # full weights (and optimizer state) from rank 0
        modules = list(model.modules())
        before = {(id(m), name): p for m in modules for name, p in m._parameters.items() if p is not None}
        ignored = {p for p in before.values() if not _shardable(p)}
        _check_shardable(model, [p for p in before.values() if p not in ignored])
        mesh = self.device_mesh
        for module in reversed(modules):  # children before parents: one FSDP unit per weight-owning layer
            if module is model or not any(p not in ignored for p in module._parameters.values() if p is not None):
                continue
            self._fully_shard(fully_shard, module, mesh, ignored)
        self._fully_shard(fully_shard, model, mesh, ignored)
        sharded = {}
        for m in modules:
            for name, p in m._parameters.items():
                old = before.get((id(m), name))
                if old is not None and p is not old:
                    sharded[id(old)] = _dress(p, old)
        for layer in modules:
            if isinstance(layer, Layer):
                layer._own_weights = [sharded.get(id(w), w) for w in layer._own_weights]
        _structure_changed()  # `weights` / `trainable_weights` lists now hold the sharded variables
        model._train_cache = None
        model.__dict__["_lamina_sharded"] = self
        if getattr(model, "optimizer", None) is not None:
            self._shard_optimizer(model.optimizer, sharded)

    def _fully_shard(self, fully_shard, module, mesh, ignored):
        cls = type(module)
        fully_shard(module, mesh=mesh, reshard_after_forward=self.reshard_after_forward, ignored_params=ignored)
        # FSDP swaps the class for an `FSDP<Class>` subclass; its hooks do not need it, while lamina's
        # serialization and type checks (`type(layer) is Dense`) need the layer's own class.
        module.__class__ = cls

    def _shard_optimizer(self, optimizer, sharded=None):
        """Give sharded slots the Variable API; an optimizer built on the full weights is rebuilt on the shards."""
        if not getattr(optimizer, "built", False):
            return
        old = list(optimizer._trainable_variables)
        if sharded and any(id(v) in sharded for v in old):
            values = [v.detach().clone() for v in optimizer._variables]  # full state, identical on every rank
            keep = 1 + (optimizer._lr_var is not None)  # iterations (and the learning rate) come first
            optimizer._variables = optimizer._variables[:keep]
            optimizer.built = False
            optimizer.build([sharded.get(id(v), v) for v in old])
            for v in optimizer._variables:
                _dress(v, None)
            with torch.no_grad():
                for v, value in zip(optimizer._variables[keep:], values[keep:]):
                    v.copy_(value)
            return
        for v in optimizer._variables:
            _dress(v, None)

    def _replicated_state(self, model):
        """Tensors that stay whole on every process: unsharded weights, buffers, plain optimizer variables."""
        tensors = [t for t in model.weights if not isinstance(t, DTensor)]
        seen = {id(t) for t in tensors}
        tensors += [b for b in model.buffers() if id(b) not in seen and not isinstance(b, DTensor)]
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "built", False):
            tensors += [v for v in optimizer.variables if torch.is_tensor(v) and not isinstance(v, DTensor)]
        return tensors



class _EvaluationShards(ShardedAdapter):
    """Evaluation slices for ModelParallel: every forward all-gathers weights, so no rank may skip a batch; a
    global batch with fewer samples than processes (one rank would get none) is an error on every rank."""

    def _global_batches(self):
        world = self.strategy.num_replicas_in_sync
        for batch in super()._global_batches():
            size = _leading_size(unpack_x_y_sample_weight(batch)[0])
            if size < world:
                raise ValueError(
                    f"lamina.distribute.ModelParallel: evaluation met a batch of {size} samples, fewer than the {world} "
                    "processes (each process must run every forward: they gather the sharded weights together). "
                    "Choose a `batch_size` and data size that leave at least one sample per process in every batch.")
            yield batch


class _GatherOnlyBackup(Callback):
    """A `BackupAndRestore` seen from a rank other than 0: restores the backup; at each of rank 0's saves it takes
    part in gathering the weights (the same collectives, in memory) but writes and deletes nothing."""

    def __init__(self, backup):
        super().__init__()
        self.backup = backup

    def _batch_hooks_needed(self, mode):
        return self.backup._batch_hooks_needed(mode)

    def set_model(self, model):
        super().set_model(model)
        self.backup.set_model(model)

    def on_train_begin(self, logs=None):
        self.backup.on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.backup.save_freq == "epoch":
            state_to_bytes(self.model)

    def on_train_batch_end(self, batch, logs=None):
        if self.backup._should_save_on_batch(batch):
            state_to_bytes(self.model)


def _dress(t, original):
    """Turn FSDP's sharded parameter (a DTensor) into a `ShardedVariable`, keeping the Keras attributes."""
    if not isinstance(t, DTensor):
        return t
    if type(t) is not ShardedVariable:
        t.__class__ = ShardedVariable
    if original is not None:
        for key in ("path", "constraint", "regularizer", "_created_trainable"):
            if hasattr(original, key):
                t.__dict__[key] = getattr(original, key)
        t.name = getattr(original, "name", None)
        t.__dict__["_keras_trainable"] = getattr(original, "trainable", True)
    return t
