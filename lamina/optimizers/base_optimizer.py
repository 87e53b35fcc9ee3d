"""`Optimizer`: Keras's optimizer state and step protocol around multi-tensor update rules.

One step (`apply`) does, as Keras does: drop missing gradients, unscale (`loss_scale_factor`),
accumulate (`gradient_accumulation_steps`), clip, decoupled weight decay `p *= 1 - wd * lr`, the
update rule, the EMA of the weights, constraints, then `iterations += 1`. Every tensor
operation runs over all parameters at once with `torch._foreach_*` kernels under `no_grad`.

Host or graph. The step counter and a constant learning rate live in 0-d tensors (they are
saved with the optimizer), each mirrored by a host value (`HostScalar`). In eager mode the rule
gets the step as a numpy float32 scalar and the learning rate as a Python float, so bias
corrections and schedules are plain host arithmetic and a step never synchronises with the
device (numpy's float32 scalars reproduce Keras's float32 `beta ** t` rounding, which matters:
`1 - 0.999**t` loses five digits). A compiled train step (`jit_compile=True`) gets the same host
numbers as one small tensor input (`graph_step_inputs()`: learning rate, step, and the rule's
`_host_scalars`, e.g. Adam's bias-corrected rate), so one graph serves every step and never computes
`beta ** t` per element. Any other use under `torch.compile` (detected with
`torch.compiler.is_compiling()`) gives the rule the `iterations` tensor and the learning-rate tensor
instead. Rules are written once for all three: `b1 ** step` and `x ** 0.5` work for floats and tensors.

Example:
    >>> w = torch.nn.Parameter(torch.ones(3))
    >>> opt = lamina.optimizers.SGD(learning_rate=0.1)
    >>> opt.apply([torch.ones(3)], [w])
    >>> w.data, int(opt.iterations)
    (tensor([0.9000, 0.9000, 0.9000]), 1)
"""

import re
import warnings

import numpy as np
import torch

from lamina.backend.config import floatx, to_torch_dtype
from lamina.backend.naming import to_snake_case, unique_name
from lamina.optimizers import _foreach
from lamina.optimizers._foreach import HostScalar
from lamina.optimizers.optimizer_variables import OptimizerVariables
from lamina.optimizers.schedules import serialization as schedule_serialization
from lamina.optimizers.schedules.learning_rate_schedule import LearningRateSchedule
from lamina.registry import register_builtin


@register_builtin("optimizers")
class Optimizer(OptimizerVariables):
    """Base class of optimizers (Keras's `keras.optimizers.Optimizer`).

    Subclasses create their slots in `build(var_list)` with `add_optimizer_variables` and
    implement `_update(grads, params, lr, step, idx)` with foreach ops; a Keras-style subclass
    that implements `update_step(gradient, variable, learning_rate)` instead also works (one
    Python call per variable).

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable taking no argument.
        weight_decay: Float; decoupled decay `p *= 1 - weight_decay * lr` before each update.
        clipnorm: Float; clip each gradient to this L2 norm.
        clipvalue: Float; clip gradient elements to `[-clipvalue, clipvalue]`.
        global_clipnorm: Float; clip all gradients together to this global L2 norm.
        use_ema: Keep an exponential moving average of the weights.
        ema_momentum: EMA momentum: `avg = m * avg + (1 - m) * weight`.
        ema_overwrite_frequency: Int; every this many steps copy the EMA into the weights.
        loss_scale_factor: Float; gradients are divided by it (see `scale_loss`).
        gradient_accumulation_steps: Int >= 2; update every this many steps with the mean gradient.
        name: Name of the optimizer (default: snake-case class name, made unique).

    Example:
        >>> opt = lamina.optimizers.Adam(learning_rate=1e-3, global_clipnorm=1.0)
        >>> opt.apply_gradients(zip(grads, model.trainable_weights))
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name if name is not None else unique_name(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        if not isinstance(learning_rate, float) and not callable(learning_rate):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a callable "
                "(that takes in the current iteration value and returns the corresponding learning rate value). "
                f"Received instead: learning_rate={learning_rate}"
            )
        self.built = False
        self._device = None
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._iterations = HostScalar(0, torch.int64)
        self._variables = [self._iterations.tensor]
        self._lr_var = None
        self._learning_rate = None
        self._exclude_ids, self._exclude_pattern = set(), None
        self._decay_mask, self._decay_params, self._constraints = [], [], []
        self._set_learning_rate(learning_rate)

    # ---- state -----------------------------------------------------------------------------

    @property
    def iterations(self):
        """Number of optimizer steps taken (an int64 0-d tensor; divided by `gradient_accumulation_steps`)."""
        if self.gradient_accumulation_steps:
            return torch.div(self._iterations.tensor, self.gradient_accumulation_steps, rounding_mode="floor")
        return self._iterations.tensor

    @iterations.setter
    def iterations(self, value):
        with torch.no_grad():
            self._iterations.set(value)

    @property
    def variables(self):
        """Optimizer state in Keras's saving order: iterations, learning_rate (if a float), then slots."""
        return self._variables[:]

    @property
    def learning_rate(self):
        """The current learning rate as a tensor (the learning-rate variable itself for a float rate)."""
        if self._lr_var is not None:
            return self._lr_var.tensor
        if isinstance(self._learning_rate, LearningRateSchedule):
            return self._learning_rate(self._iterations.tensor)
        return self._learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if isinstance(self._learning_rate, LearningRateSchedule) and not callable(learning_rate):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning rate "
                "to be settable, you should instantiate the optimizer with a float `learning_rate` argument."
            )
        self._set_learning_rate(learning_rate)

    def _set_learning_rate(self, learning_rate):
        if callable(learning_rate) and not isinstance(learning_rate, torch.Tensor):
            if self._lr_var is not None:
                self._variables = [v for v in self._variables if v is not self._lr_var.tensor]
                self._lr_var = None
            self._learning_rate = learning_rate
        elif self._lr_var is not None:
            with torch.no_grad():
                self._lr_var.set(learning_rate)
        else:
            self._lr_var = HostScalar(float(learning_rate), to_torch_dtype(floatx()), self._device)
            self._learning_rate = self._lr_var.tensor
            self._variables.insert(1, self._lr_var.tensor)
        # Built-in schedules can be evaluated on the host; other schedules get the step tensor.
        self._host_schedule = isinstance(self._learning_rate, LearningRateSchedule) and (
            type(self._learning_rate).__call__ is LearningRateSchedule.__call__
        )

    def _lr_at(self, iteration, compiled):
        """Learning rate of this step: a Python float on the host path, else a 0-d tensor."""
        if self._lr_var is not None:
            return self._lr_var.tensor if compiled else self._lr_var.value()
        if self._host_schedule and not compiled:
            return self._learning_rate._host_value(iteration)
        if isinstance(self._learning_rate, LearningRateSchedule):
            lr = self._learning_rate(self._iterations.tensor)
        else:
            lr = self._learning_rate()
        if isinstance(lr, torch.Tensor) and self._device is not None and lr.device != self._device:
            lr = lr.to(self._device)
        return lr

    # ---- building ----------------------------------------------------------------------------

    def build(self, var_list):
        """Create the optimizer's state for `var_list` (EMA averages and gradient accumulators here)."""
        var_list = list(var_list)
        if var_list:
            self._move_to(var_list[0].device)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(var_list, "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(var_list, "gradient_accumulator")
        self._trainable_variables = var_list[:]
        self._trainable_variables_indices = {id(v): i for i, v in enumerate(var_list)}
        self._constraints = [
            (i, v, v.constraint) for i, v in enumerate(var_list) if getattr(v, "constraint", None) is not None
        ]
        self._refresh_weight_decay()
        self.built = True

    def _move_to(self, device):
        self._device = torch.device(device)
        for scalar in (self._iterations, self._lr_var):
            if scalar is not None:
                old = scalar.tensor
                scalar.to(device)
                self._variables = [scalar.tensor if v is old else v for v in self._variables]
        if self._lr_var is not None:
            self._learning_rate = self._lr_var.tensor

    # ---- weight decay ----------------------------------------------------------------------

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from weight decay: those in `var_list`, and those whose name contains one of `var_names`.

        Example:
            >>> opt = lamina.optimizers.AdamW()
            >>> opt.exclude_from_weight_decay(var_names=["bias"])
        """
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None
        if self.built:
            self._refresh_weight_decay()

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        name = getattr(variable, "name", None)
        return not (self._exclude_pattern is not None and name and self._exclude_pattern.search(str(name)))

    def _refresh_weight_decay(self):
        self._decay_mask = [self._use_weight_decay(v) for v in self._trainable_variables]
        self._decay_params = [v for v, m in zip(self._trainable_variables, self._decay_mask) if m]

    # ---- one step -------------------------------------------------------------------------

    def apply_gradients(self, grads_and_vars):
        """Apply `(gradient, variable)` pairs; returns the `iterations` tensor."""
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(grads, trainable_variables)
        return self._iterations.tensor

    def apply(self, grads, trainable_variables=None, _step_inputs=None):
        """Update `trainable_variables` (default: the variables the optimizer was built with) in place.

        Gradients that are None are skipped (with a warning, as in Keras). Builds the optimizer on
        the first call that names the variables. `_step_inputs` is the compiled train step's
        `graph_step_inputs()` tensor.
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a list of "
                    "variables. Call `optimizer.build(trainable_variables)` first."
                )
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must match the optimizer's "
                    f"variables one-to-one. Received a list of {len(grads)} gradients, but the optimizer is "
                    f"tracking {len(self._trainable_variables)} trainable variables."
                )
            params, idx = self._trainable_variables, None
        else:
            params = list(trainable_variables)
            if not self.built:
                self.build(params)
            idx = self._indices(params)
        if any(g is None for g in grads):
            grads, params, idx = self._drop_missing(grads, params, idx)
        with torch.no_grad():
            self._step(grads, params, idx, _step_inputs)

    def graph_step_inputs(self):
        """The coming step's learning rate, step number and `_host_scalars`, as one float32 tensor for a
        compiled train step (computed on the host with an eager step's float32 arithmetic, so the graph does
        not recompute `beta ** t` per element); None when the graph must compute them itself (a user-defined
        schedule or callable, gradient accumulation). After the compiled step, call `count_graph_step()`.

        Example:
            >>> inputs = opt.graph_step_inputs()   # tensor([lr, t, ...]) or None
            >>> compiled_step(x, y, inputs); opt.count_graph_step()
        """
        if not self.built or self.gradient_accumulation_steps or (self._lr_var is None and not self._host_schedule):
            return None
        iteration = self._iterations.value()
        lr = self._lr_at(iteration, False)
        step = np.float32(iteration + 1)
        return torch.tensor([lr, step, *self._host_scalars(lr, step)], dtype=torch.float32, device=self._device)

    def count_graph_step(self):
        """After a compiled step that ran on `graph_step_inputs()`: its `iterations += 1`, followed on the host."""
        self._iterations.added_elsewhere(1)

    def _host_scalars(self, lr, step):
        """Step-dependent numbers of the update rule (e.g. Adam's bias-corrected rate) from a host `lr` and
        `step`; rules that define them take them as `_update(..., scalars=...)`. Default: none."""
        return ()

    def _indices(self, params):
        """None when `params` is exactly the built list (the common, fast case), else their indices."""
        known = self._trainable_variables
        if len(params) == len(known) and all(a is b for a, b in zip(params, known)):
            return None
        indices = []
        for v in params:
            if id(v) not in self._trainable_variables_indices:
                raise ValueError(
                    f"Unknown variable: {getattr(v, 'path', None) or tuple(v.shape)}. This optimizer can only be "
                    "called for the variables it was originally built with. When working with a new set of "
                    "variables, you should recreate a new optimizer instance."
                )
            indices.append(self._trainable_variables_indices[id(v)])
        return indices

    def _drop_missing(self, grads, params, idx):
        keep = [i for i, g in enumerate(grads) if g is not None]
        if not keep:
            raise ValueError("No gradients provided for any variable.")
        missing = [getattr(p, "path", None) or getattr(p, "name", None) or f"<shape {tuple(p.shape)}>"
                   for g, p in zip(grads, params) if g is None]
        warnings.warn(
            f"Gradients do not exist for variables {missing} when minimizing the loss. "
            "If using `model.compile()`, did you forget to provide a `loss` argument?"
        )
        full = idx if idx is not None else range(len(params))
        return [grads[i] for i in keep], [params[i] for i in keep], [full[i] for i in keep]

    def _step(self, grads, params, idx, inputs=None):
        compiled = torch.compiler.is_compiling()
        scalars = ()
        if inputs is not None:  # a compiled step fed with `graph_step_inputs()`
            lr, step, scalars = inputs[0], inputs[1], tuple(inputs[2:].unbind())
            iteration = step - 1
        else:
            iteration = self._iterations.tensor if compiled else self._iterations.value()
            lr = self._lr_at(iteration, compiled)
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, self.loss_scale_factor)
        accumulate = self.gradient_accumulation_steps
        if accumulate:
            if compiled:
                raise NotImplementedError(
                    "`gradient_accumulation_steps` is not supported inside `torch.compile`: the update happens "
                    "on some steps only. Run the optimizer step eagerly or drop `gradient_accumulation_steps`."
                )
            accumulators = _select(self._accumulated_gradients, idx)
            if (iteration + 1) % accumulate == 0:
                grads = torch._foreach_add(grads, accumulators)
                torch._foreach_div_(grads, accumulate)
                self._clip_decay_update(grads, params, idx, lr, np.float32(iteration // accumulate + 1))
                torch._foreach_zero_(self._accumulated_gradients)
            else:
                torch._foreach_add_(accumulators, grads)
        else:
            if inputs is None:
                step = (iteration + 1).to(torch.float32) if compiled else np.float32(iteration + 1)
            self._clip_decay_update(grads, params, idx, lr, step, scalars)
        if self.use_ema:
            self._update_ema(iteration // accumulate if accumulate else iteration, compiled or inputs is not None)
        for i, variable, constraint in self._constraints:
            if idx is None or i in idx:
                variable.copy_(constraint(variable))
        if compiled:
            self._iterations.tensor.add_(1)
        else:
            self._iterations.add(1)

    def _clip_decay_update(self, grads, params, idx, lr, step, scalars=()):
        if self.clipnorm and self.clipnorm > 0:
            grads = _foreach.clip_by_norm(grads, self.clipnorm)
        elif self.global_clipnorm and self.global_clipnorm > 0:
            grads = _foreach.clip_by_global_norm(grads, self.global_clipnorm)
        elif self.clipvalue and self.clipvalue > 0:
            grads = _foreach.clip_by_value(grads, self.clipvalue)
        if self.weight_decay is not None:
            if idx is None:
                decayed = self._decay_params
            else:
                decayed = [p for p, i in zip(params, idx) if self._decay_mask[i]]
            if decayed:
                torch._foreach_mul_(decayed, 1 - self.weight_decay * lr)
        if scalars:
            self._update(grads, params, lr, step, idx, scalars=scalars)
        else:
            self._update(grads, params, lr, step, idx)

    def _update(self, grads, params, lr, step, idx):
        """The update rule over all parameters; `lr`, `step` are floats/ints or 0-d tensors."""
        if type(self).update_step is Optimizer.update_step:
            raise NotImplementedError(f"Optimizer {type(self).__name__} must implement `_update` or `update_step`.")
        for grad, variable in zip(grads, params):
            self.update_step(grad, variable, lr)

    def update_step(self, gradient, variable, learning_rate):
        """Keras-style single-variable update (for custom optimizers); built-ins implement `_update`."""
        raise NotImplementedError

    def _update_ema(self, iteration, compiled):
        averages, weights = self._model_variables_moving_average, self._trainable_variables
        if compiled:
            weight = 1.0 - self.ema_momentum * (iteration != 0).to(torch.float32)
        else:
            weight = 1.0 if iteration == 0 else 1.0 - self.ema_momentum
        torch._foreach_lerp_(averages, weights, weight)
        frequency = self.ema_overwrite_frequency
        if frequency:
            if compiled:
                torch._foreach_lerp_(weights, averages, ((iteration + 1) % frequency == 0).to(torch.float32))
            elif (iteration + 1) % frequency == 0:
                torch._foreach_copy_(weights, averages)

    # ---- Keras helpers ----------------------------------------------------------------------

    def scale_loss(self, loss):
        """`loss * loss_scale_factor` when a factor is set, else `loss`."""
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    def finalize_variable_values(self, var_list):
        """With `use_ema`, overwrite `var_list` with their moving averages (done by `fit` at the end)."""
        if not self.use_ema:
            return
        averages = self._model_variables_moving_average
        if len(var_list) != len(averages):
            raise ValueError(
                f"The length of model variables ({len(var_list)}) to override does not match the length of model "
                f"variables stored in the optimizer ({len(averages)}). Please check if the optimizer was called "
                "on your model."
            )
        with torch.no_grad():
            torch._foreach_copy_(list(var_list), averages)

    def get_config(self):
        """The constructor arguments (Keras's optimizer config)."""
        if self._lr_var is not None:
            learning_rate = float(self._lr_var.tensor)
        elif isinstance(self._learning_rate, LearningRateSchedule):
            learning_rate = schedule_serialization.serialize(self._learning_rate)
        else:
            learning_rate = self._learning_rate
        return {
            "name": self.name, "learning_rate": learning_rate, "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
            "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency, "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Create an optimizer from `get_config()`'s output (a serialized schedule is deserialized)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedule_serialization.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)


def _select(items, idx):
    return items if idx is None else [items[i] for i in idx]
