"""`DataParallel` (aliases `MirroredStrategy`, `MultiWorkerMirroredStrategy`): data parallelism on torch.distributed.

The same script runs on one process or N (`torchrun --nproc_per_node=N train.py`, or
`lamina.distribute.launch` for tests and notebooks):

    strategy = lamina.distribute.DataParallel()
    with strategy.scope():
        model = make_model()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=5)   # 64 = the global batch, split across processes

What changes in `fit`/`evaluate` of a model compiled in the scope of a multi-process strategy:
- at the start of training every process receives rank 0's weights and optimizer state;
- each process trains on its slice of every global batch (same shuffled order everywhere);
- gradients are averaged with one flattened `all_reduce` per step, inside `optimizer.apply`
  (so custom `train_step`s are covered too; `torch.autograd.grad`, which the trainer uses,
  bypasses `DistributedDataParallel`'s hooks, so DDP itself is not used);
- metric states are summed across processes once per epoch (and per evaluation), so every
  process logs the same values; `stop_training` is OR-ed across processes at each epoch end;
- `predict` on in-memory data runs each process on its block of the samples and gathers the outputs, so
  every process returns all predictions, in order;
- progress bar and file-writing callbacks (`ModelCheckpoint`, `CSVLogger`, `TensorBoard`,
  `BackupAndRestore`'s writes) run on rank 0 only.
Without a launcher (no `WORLD_SIZE` > 1 in the environment) it is one process and `scope()`
changes nothing.

Failures: a collective that fails (a peer died: gloo sees the closed connection at once; or
a peer stopped responding for `timeout` seconds) raises `DistributedError` naming the rank.

Example:
    >>> strategy = lamina.distribute.MirroredStrategy()
    >>> strategy.num_replicas_in_sync
    1
"""

import collections
import contextlib
import datetime
import os

import torch

__all__ = ["DataParallel", "MirroredStrategy", "MultiWorkerMirroredStrategy", "DistributedError", "get_strategy"]

_CURRENT = [None]


class DistributedError(RuntimeError):
    """A collective operation failed: another process of the job died or stopped responding."""


def get_strategy():
    """The strategy whose `scope()` is active, or None."""
    return _CURRENT[0]


class DataParallel:
    """Synchronous data-parallel training over the processes of a torch.distributed job.

    Args:
        devices: Ignored (one device per process: the process's GPU `LOCAL_RANK` with NCCL, else CPU).
        timeout: Seconds a collective may wait for the other processes before failing.
        backend: `"gloo"`, `"nccl"`, or None: NCCL when CUDA is available, else gloo.
        **kwargs: Keras/TF arguments with no meaning here (`device_mesh`, `cross_device_ops`,
            `communication_options`, `cluster_resolver`, `auto_shard_dataset`) are accepted and ignored.

    Example:
        >>> strategy = lamina.distribute.DataParallel()
        >>> with strategy.scope():
        ...     model = lamina.Sequential([lamina.layers.Dense(1)])
        ...     model.compile("sgd", "mse")
    """

    _IGNORED = ("device_mesh", "cross_device_ops", "communication_options", "cluster_resolver", "auto_shard_dataset")

    def __init__(self, devices=None, timeout=1800, backend=None, **kwargs):
        unknown = set(kwargs) - set(self._IGNORED)
        if unknown:
            raise TypeError(f"DataParallel: unrecognized argument(s) {sorted(unknown)}.")
        import torch.distributed as dist

        self._dist = dist
        self.timeout = float(timeout)
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if dist.is_available() and dist.is_initialized():
            self.backend = dist.get_backend()
        elif world > 1:
            if backend is None:
                backend = os.environ.get("LAMINA_DISTRIBUTED_BACKEND") or (
                    "nccl" if torch.cuda.is_available() else "gloo")
            if backend == "nccl":
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            dist.init_process_group(backend, timeout=datetime.timedelta(seconds=self.timeout))
            self.backend = backend
        else:
            self.backend = None
        self.distributed = self.backend is not None and dist.get_world_size() > 1
        self.rank = dist.get_rank() if self.backend is not None else 0
        self.num_replicas_in_sync = dist.get_world_size() if self.backend is not None else 1
        if self.backend == "nccl":
            self.device = torch.device("cuda", torch.cuda.current_device())
        else:
            self.device = torch.device("cpu")
        # Per training batch this process yields, its share of the global batch, consumed in order by the
        # gradient all-reduce (a queue, so `steps_per_execution` grouping keeps batches and weights paired).
        self._grad_weights = collections.deque()
        self.last_shuffle_seed = None

    # -- scope --------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def scope(self):
        """Models created or compiled inside train with this strategy (a no-op on one process)."""
        from lamina.trainers import trainer

        previous = (_CURRENT[0], trainer._DISTRIBUTION[0])
        _CURRENT[0] = self
        if self.distributed:
            trainer._DISTRIBUTION[0] = self
        try:
            yield self
        finally:
            _CURRENT[0], trainer._DISTRIBUTION[0] = previous

    @property
    def is_chief(self):
        """Whether this process is rank 0 (the one that writes files)."""
        return self.rank == 0

    # -- collectives ----------------------------------------------------------------------------------------
    def _collective(self, what, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RuntimeError as e:
            raise DistributedError(
                f"lamina.distribute: {what} failed on rank {self.rank} of {self.num_replicas_in_sync}: another "
                f"process of the job crashed, was killed, or did not respond within timeout={self.timeout:g} s. "
                f"Original error: {e}"
            ) from e

    def _on_device(self, t):
        return t if t.device == self.device else t.to(self.device)

    def all_reduce_flat(self, tensors, what, op="sum"):
        """Sum (or max) a list of tensors across processes with one collective per dtype; returns new tensors."""
        from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

        dist = self._dist
        out = list(tensors)
        groups = {}
        for i, t in enumerate(tensors):
            groups.setdefault(t.dtype, []).append(i)
        for indices in groups.values():
            group = [tensors[i] for i in indices]
            flat = self._on_device(_flatten_dense_tensors([t.detach() for t in group]))
            reduce_op = dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM
            self._collective(what, dist.all_reduce, flat, op=reduce_op)
            for i, t, r in zip(indices, group, _unflatten_dense_tensors(flat, group)):
                out[i] = r.to(t.device)
        return out

    def _any(self, flag, what="stop_training"):
        value = self.all_reduce_flat([torch.tensor([1 if flag else 0], dtype=torch.int32)], what, op="max")[0]
        return bool(value.item())  # host sync: once per epoch

    def broadcast_seed(self):
        """A seed drawn on rank 0 (every rank draws, keeping global RNG streams aligned), shared by all."""
        seed = torch.randint(0, 2**31 - 1, (1,), dtype=torch.int64)
        if self.distributed:
            seed = self._on_device(seed)
            self._collective("broadcasting the shuffle seed", self._dist.broadcast, seed, src=0)
        self.last_shuffle_seed = int(seed.item())
        return self.last_shuffle_seed

    # -- trainer hooks (called by lamina.trainers.trainer when `model._distribution` is set) -----------------
    def _on_compile(self, model):
        if self.device.type != "cpu":
            model.to(self.device)
        if model.jit_compile:  # keep the collective out of the compiled graph
            self._reduce_gradients = torch.compiler.disable(type(self)._reduce_gradients.__get__(self))
        optimizer = model.optimizer
        if optimizer is not None and optimizer.__dict__.get("_lamina_distribution") is not self:
            self._wrap_optimizer(optimizer)

    def _wrap_optimizer(self, optimizer):
        apply = type(optimizer).apply.__get__(optimizer)
        strategy = self

        def distributed_apply(grads, trainable_variables=None):
            return apply(strategy._reduce_gradients(list(grads)), trainable_variables)

        optimizer.apply = distributed_apply  # instance attribute: `apply_gradients` goes through it too
        optimizer._lamina_distribution = self

    def _gradients(self, loss, params):
        """This process's gradients of `loss` for `params` (the trainer's step calls it; `ModelParallel` overrides it)."""
        return torch.autograd.grad(loss, params, allow_unused=True)

    def _reduce_gradients(self, grads):
        """Average gradients over processes, each weighted by its share of the global batch (one all_reduce)."""
        present = [g for g in grads if g is not None]
        if not present or not self.distributed:
            return grads
        weight = self._grad_weights.popleft() if self._grad_weights else 1.0 / self.num_replicas_in_sync
        scaled = torch._foreach_mul(present, weight)
        reduced = iter(self.all_reduce_flat(scaled, "the gradient all_reduce"))
        return [None if g is None else next(reduced) for g in grads]

    def _sync_model(self, model):
        """Give every process rank 0's weights (parameters, buffers) and optimizer state, in a fixed order."""
        tensors = [t for t in model.weights]
        seen = {id(t) for t in tensors}
        tensors += [b for b in model.buffers() if id(b) not in seen]
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "built", False):
            tensors += [v for v in optimizer.variables if torch.is_tensor(v)]
        self._check_same_structure(tensors)
        self._broadcast(tensors, "broadcasting rank 0's weights")

    def _broadcast(self, tensors, what):
        """Copy rank 0's values into `tensors` on every process: one flattened broadcast per dtype."""
        from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

        groups = {}
        for t in tensors:
            groups.setdefault(t.dtype, []).append(t)
        with torch.no_grad():
            for group in groups.values():
                flat = self._on_device(_flatten_dense_tensors([t.detach() for t in group]))
                self._collective(what, self._dist.broadcast, flat, src=0)
                for t, value in zip(group, _unflatten_dense_tensors(flat, group)):
                    t.copy_(value)

    def _check_same_structure(self, tensors):
        signature = torch.tensor([len(tensors), sum(t.numel() for t in tensors)], dtype=torch.int64)
        both = self.all_reduce_flat([torch.cat([signature, -signature])], "checking the model structure", op="max")[0]
        if not torch.equal(both[:2], -both[2:]):  # max == min on every process
            raise DistributedError(
                f"lamina.distribute: the model differs between processes (rank {self.rank} has {len(tensors)} "
                f"weight tensors with {int(signature[1])} values). Build the same model on every process."
            )

    def _distribute_data(self, adapter, shuffle=False, training=True):
        from lamina.distribute.data import ShardedAdapter

        seed = self.broadcast_seed() if shuffle else 0
        return ShardedAdapter(adapter, self, shuffle=bool(shuffle), seed=seed, training=training)

    def _predict_shard(self, adapter):
        """`predict` on in-memory data: this process's contiguous block of the samples, with a per-process batch of
        `ceil(batch_size / replicas)`, plus every process's `(start, stop)` for `_gather_predictions`; other data
        (generators, datasets, `steps`) is predicted whole on every process: `(adapter, None)`."""
        from lamina.distribute.data import shard_bounds
        from lamina.layers.symbolic import map_structure
        from lamina.trainers.data_adapters import ArrayDataAdapter

        world = self.num_replicas_in_sync
        if (not self.distributed or not isinstance(adapter, ArrayDataAdapter) or adapter.steps is not None
                or adapter.num_samples < world):
            return adapter, None
        bounds = [shard_bounds(adapter.num_samples, r, world) for r in range(world)]
        lo, hi = bounds[self.rank]
        local = ArrayDataAdapter(map_structure(lambda t: t[lo:hi], adapter.x),
                                 batch_size=-(-adapter.batch_size // world))
        return local, bounds

    def _gather_predictions(self, outputs, bounds):
        """Every process's block of `predict` outputs (numpy, nested like the model's outputs), in sample order."""
        import numpy as np

        from lamina.layers.symbolic import map_structure

        sizes = [hi - lo for lo, hi in bounds]
        longest = max(sizes)

        def gather(array):
            block = torch.from_numpy(np.ascontiguousarray(array))
            padded = block.new_zeros((longest,) + tuple(block.shape[1:]))
            padded[:block.shape[0]] = block
            padded = self._on_device(padded)
            parts = [torch.empty_like(padded) for _ in sizes]
            self._collective("gathering predictions", self._dist.all_gather, parts, padded)
            return torch.cat([part[:size].cpu() for part, size in zip(parts, sizes)]).numpy()

        return map_structure(gather, outputs)

    def _metric_states(self, model):
        states = []
        for metric in model.metrics:
            subs = getattr(metric, "metrics", None) if not hasattr(metric, "variables") else [metric]
            for sub in subs or []:
                states.extend(sub.variables)
        return states

    def _reduce_logs(self, model, logs):
        """Sum metric states over processes (once per epoch / evaluation); returns logs computed from them."""
        from lamina.trainers.trainer import _Logs

        states = self._metric_states(model)
        if states:
            reduced = self.all_reduce_flat(states, "reducing metrics")
            world = self.num_replicas_in_sync
            with torch.no_grad():
                for state, value in zip(states, reduced):
                    aggregation = getattr(state, "aggregation", "sum")
                    if aggregation == "mean":
                        value = value / world
                    if aggregation in ("sum", "mean", None):
                        state.copy_(value.to(state.dtype))
        if isinstance(logs, _Logs) or logs is None:
            return _Logs(model)
        # A custom train_step returned its own dict: average its tensors over processes.
        keys = [k for k, v in logs.items() if torch.is_tensor(v)]
        values = self.all_reduce_flat([logs[k].detach().float() for k in keys], "reducing logs")
        out = dict(logs)
        for k, v in zip(keys, values):
            out[k] = v / self.num_replicas_in_sync
        return out

    def _filter_callbacks(self, callbacks, verbose):
        """On ranks other than 0: no progress bar, no file-writing callbacks (BackupAndRestore only restores)."""
        if self.rank == 0:
            return callbacks, verbose
        from lamina.distribute.callbacks import rank_local_callbacks

        return rank_local_callbacks(callbacks), 0


MirroredStrategy = DataParallel
MultiWorkerMirroredStrategy = DataParallel
