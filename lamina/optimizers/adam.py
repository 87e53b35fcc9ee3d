"""Adam and AdamW (Adam with Keras's decoupled weight decay, default 0.004)."""

import torch

from lamina.optimizers._foreach import add_scaled_ratio_
from lamina.optimizers.base_optimizer import Optimizer, _select
from lamina.registry import register_builtin


@register_builtin("optimizers")
class Adam(Optimizer):
    """Adam, with Keras's epsilon placement ("epsilon hat").

    Update rule at step `t` (1-based) for parameter `w` with gradient `g`:
    `m = m + (g - m) * (1 - beta_1)`, `v = v + (g**2 - v) * (1 - beta_2)`,
    (`amsgrad`: `v_hat = max(v_hat, v)`, used in place of `v`),
    `alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`, `w = w - alpha * m / (sqrt(v) + epsilon)`.

    Args:
        learning_rate: Float, `LearningRateSchedule` or callable. Defaults to 0.001.
        beta_1: Decay of the first-moment estimate. Defaults to 0.9.
        beta_2: Decay of the second-moment estimate. Defaults to 0.999.
        epsilon: Added to `sqrt(v)`. Defaults to 1e-7.
        amsgrad: Whether to use the AMSGrad variant.
        **kwargs: The base `Optimizer` arguments (`weight_decay`, `clipnorm`, `use_ema`, ...).

    Example:
        >>> opt = lamina.optimizers.Adam(learning_rate=1e-3, amsgrad=True)
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> opt.apply([torch.ones(2)], [w])
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None,
                 **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def _host_scalars(self, lr, step):
        return (lr * (1 - self.beta_2**step) ** 0.5 / (1 - self.beta_1**step),)

    def _update(self, grads, params, lr, step, idx, scalars=None):
        m, v = _select(self._momentums, idx), _select(self._velocities, idx)
        (alpha,) = scalars or self._host_scalars(lr, step)
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - self.beta_2)
        if self.amsgrad:
            v_hat = _select(self._velocity_hats, idx)
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        denominator = torch._foreach_sqrt(v)
        torch._foreach_add_(denominator, self.epsilon)
        add_scaled_ratio_(params, m, denominator, -alpha)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config


@register_builtin("optimizers")
class AdamW(Adam):
    """Adam with decoupled weight decay: `w = w * (1 - weight_decay * lr)` before each Adam update.

    Args:
        learning_rate: Float, `LearningRateSchedule` or callable. Defaults to 0.001.
        weight_decay: Float, required (not None). Defaults to 0.004.
        beta_1, beta_2, epsilon, amsgrad: As in `Adam`.
        **kwargs: The base `Optimizer` arguments.

    Example:
        >>> opt = lamina.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.01)
        >>> opt.exclude_from_weight_decay(var_names=["bias"])
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None,
                 **kwargs):
        super().__init__(
            learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad, name=name,
            weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
            use_ema=use_ema, ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor, gradient_accumulation_steps=gradient_accumulation_steps, **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
