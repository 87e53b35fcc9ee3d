"""`evaluate`/`predict`'s in-memory loops give Keras's numbers whichever shortcut they take: one-hot labels read as
class indices, batch losses summed in blocks, weights read straight from the registered parameters."""

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.trainers import trainer as trainer_module
from lamina.trainers.softmax_fusion import one_hot_as_class_indices

RNG = np.random.default_rng(3)
X = RNG.standard_normal((70, 6)).astype("float32")  # 70 = 4 batches of 16 + a last batch of 6
Y_INT = RNG.integers(0, 4, 70)
Y_ONEHOT = np.eye(4, dtype="float32")[Y_INT]
Y_SOFT = RNG.dirichlet(np.ones(4), 70).astype("float32")


def _pair(loss="categorical_crossentropy", metrics=None):
    def build(lib):
        return lib.Sequential([lib.Input((6,)), lib.layers.Dense(5, activation="relu"),
                               lib.layers.Dense(4, activation="softmax")])

    ours, theirs = build(lamina), build(keras)
    ours.set_weights(theirs.get_weights())
    ours.compile("sgd", loss, metrics=metrics)
    theirs.compile("sgd", loss, metrics=metrics)
    return ours, theirs


@pytest.mark.parametrize("labels", [Y_ONEHOT, Y_SOFT], ids=["one_hot", "soft"])
@pytest.mark.parametrize("metrics", [None, ["accuracy"]])
def test_evaluate_matches_keras_for_one_hot_and_soft_labels(labels, metrics):
    ours, theirs = _pair(metrics=metrics)
    np.testing.assert_allclose(ours.evaluate(X, labels, batch_size=16, verbose=0),
                               theirs.evaluate(X, labels, batch_size=16, verbose=0), rtol=1e-5, atol=1e-6)


def test_evaluate_with_sample_weight_matches_keras():
    ours, theirs = _pair(metrics=["accuracy"])
    sw = RNG.random(70).astype("float32")
    np.testing.assert_allclose(ours.evaluate(X, Y_ONEHOT, sample_weight=sw, batch_size=16, verbose=0),
                               theirs.evaluate(X, Y_ONEHOT, sample_weight=sw, batch_size=16, verbose=0), rtol=1e-5)


def test_loss_blocks_sum_like_one_update_per_batch(monkeypatch):
    ours, _ = _pair()
    whole = ours.evaluate(X, Y_ONEHOT, batch_size=8, verbose=0)
    monkeypatch.setattr(trainer_module, "_LOSS_BLOCK", 2)  # 9 batches: four full blocks and one of 1
    assert ours.evaluate(X, Y_ONEHOT, batch_size=8, verbose=0) == pytest.approx(whole, rel=1e-6)


def test_only_exact_one_hot_rows_become_class_indices():
    ours, _ = _pair()
    ours.evaluate(X, Y_ONEHOT, verbose=0)  # builds the step cache
    cache = ours._train_cache
    labels, loss = one_hot_as_class_indices(cache, torch.from_numpy(Y_ONEHOT))
    assert loss is not None and labels.tolist() == Y_INT.tolist()
    almost = Y_ONEHOT.copy()
    almost[0] = [0.5, 0.5, 0.0, 0.0]  # sums to 1, but is not one-hot
    for y in (torch.from_numpy(Y_SOFT), torch.from_numpy(almost), torch.from_numpy(Y_ONEHOT[:, :3]),
              torch.from_numpy(Y_INT)):
        kept, none = one_hot_as_class_indices(cache, y)
        assert none is None and kept is y


def test_class_index_loss_keeps_the_losss_shape_error():
    ours, _ = _pair()
    ours.evaluate(X, Y_ONEHOT, verbose=0)
    _, loss = one_hot_as_class_indices(ours._train_cache, torch.from_numpy(Y_ONEHOT))
    with pytest.raises(ValueError):
        loss(torch.tensor([0, 1]), torch.zeros(2, 3, 4))


def test_mean_update_block_equals_per_batch_updates():
    values, weights = [torch.tensor(v) for v in (0.5, 2.0, -1.0)], [32, 32, 7]
    block, single = lamina.metrics.Mean(), lamina.metrics.Mean()
    block.update_block(values, weights)
    for v, w in zip(values, weights):
        single.update_scalar(v, w)
    assert float(block.result()) == pytest.approx(float(single.result()), rel=1e-7)
    assert float(block.count) == 71


def test_dense_subclass_with_an_unregistered_kernel_still_calls():
    class FrozenKernelDense(lamina.layers.Dense):
        def build(self, input_shape):
            super().build(input_shape)
            kernel = self.kernel.detach().clone()
            del self._parameters["kernel"]
            self.kernel = kernel  # a plain tensor attribute, not a registered parameter

    layer = FrozenKernelDense(3)
    x = torch.randn(2, 4)
    out = layer(x)
    torch.testing.assert_close(out, x @ layer.kernel + layer.bias)


def test_predict_runs_forward_hooks():
    ours, theirs = _pair()
    seen = []
    ours.layers[0].register_forward_hook(lambda module, args, out: seen.append(out.shape[0]))
    handle = ours.register_forward_hook(lambda module, args, out: seen.append("model"))
    np.testing.assert_allclose(ours.predict(X, batch_size=32, verbose=0), theirs.predict(X, batch_size=32, verbose=0),
                               atol=1e-6)
    assert seen.count("model") == 3 and [s for s in seen if s != "model"] == [32, 32, 6]
    handle.remove()
