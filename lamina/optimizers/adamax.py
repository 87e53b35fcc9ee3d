"""Adamax: Adam with the infinity norm in place of the second moment."""

import torch

from lamina.optimizers._foreach import add_scaled_ratio_
from lamina.optimizers.base_optimizer import Optimizer, _select
from lamina.registry import register_builtin


@register_builtin("optimizers")
class Adamax(Optimizer):
    """Adamax, Keras's formulation.

    Update rule at step `t` (1-based) for parameter `w` with gradient `g`:
    `m = m + (g - m) * (1 - beta_1)`, `u = max(beta_2 * u, |g|)`,
    `w = w - lr * m / ((1 - beta_1**t) * (u + epsilon))`.

    Args:
        learning_rate: Float, `LearningRateSchedule` or callable. Defaults to 0.001.
        beta_1: Defaults to 0.9.
        beta_2: Defaults to 0.999.
        epsilon: Defaults to 1e-7.
        **kwargs: The base `Optimizer` arguments.

    Example:
        >>> opt = lamina.optimizers.Adamax(learning_rate=2e-3)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def _host_scalars(self, lr, step):
        return (-lr / (1 - self.beta_1**step),)

    def _update(self, grads, params, lr, step, idx, scalars=None):
        (scale,) = scalars or self._host_scalars(lr, step)
        m, u = _select(self._m, idx), _select(self._u, idx)
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominators = torch._foreach_add(u, self.epsilon)
        add_scaled_ratio_(params, m, denominators, scale)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
