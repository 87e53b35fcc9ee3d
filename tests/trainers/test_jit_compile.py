"""`compile(jit_compile=True)`: the train step under torch.compile, and `steps_per_execution`."""

import warnings

import numpy as np
import pytest
import torch

import lamina


def _mlp():
    return lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(8, activation="relu"), lamina.layers.Dense(3)])


def _convnet():
    return lamina.Sequential([lamina.Input((6, 6, 2)), lamina.layers.Conv2D(3, 3, padding="same", activation="relu"),
                              lamina.layers.MaxPooling2D(), lamina.layers.Flatten(), lamina.layers.Dense(3)])


def _fit(make, x, y, **compile_kwargs):
    torch.manual_seed(0)
    model = make()
    model.compile(lamina.optimizers.Adam(0.01), lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], **compile_kwargs)
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model, history.history


def _data(shape):
    rs = np.random.RandomState(0)
    return rs.randn(24, *shape).astype("float32"), rs.randint(0, 3, 24)


def test_jit_compile_matches_eager_without_graph_breaks():
    x, y = _data((6,))
    eager, eager_logs = _fit(_mlp, x, y)
    with warnings.catch_warnings():
        # A graph break would fail `fullgraph=True` and warn about the eager fallback.
        warnings.filterwarnings("error", message=".*jit_compile")
        compiled, compiled_logs = _fit(_mlp, x, y, jit_compile=True)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(compiled_logs["loss"], eager_logs["loss"], rtol=1e-5)
    assert compiled_logs["accuracy"] == eager_logs["accuracy"]


def test_convnet_train_step_traces_as_one_graph():
    x, y = _data((6, 6, 2))
    model = _convnet()
    model.compile(lamina.optimizers.SGD(0.1, momentum=0.9), lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    batch = (torch.from_numpy(x[:8]), torch.from_numpy(y[:8]))
    model._prepare_training(batch)
    model.train()
    torch._dynamo.config.trace_autograd_ops = True
    explanation = torch._dynamo.explain(model._train_core)(batch[0], batch[1], None)
    assert (explanation.graph_count, explanation.graph_break_count) == (1, 0), explanation.break_reasons


class _HostRoundTrip(lamina.layers.Layer):
    def call(self, x):
        return x * float(x.detach().abs().max().cpu().numpy() > -1)  # a host sync: breaks the graph


def test_jit_compile_falls_back_to_eager_with_a_warning():
    x, y = _data((6,))

    def make():
        return lamina.Sequential([lamina.Input((6,)), _HostRoundTrip(), lamina.layers.Dense(3)])

    eager, _ = _fit(make, x, y)
    with pytest.warns(UserWarning, match="running it eagerly"):
        compiled, _ = _fit(make, x, y, jit_compile=True)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


class _BatchCounter(lamina.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)


@pytest.mark.parametrize("steps_per_execution, expected_batches", [(2, [1, 3, 4]), (3, [2, 4])])
def test_steps_per_execution_runs_several_steps_per_dispatch(steps_per_execution, expected_batches):
    rs = np.random.RandomState(0)
    x, y = rs.randn(40, 6).astype("float32"), rs.randint(0, 3, 40)
    reference, ref_logs = _fit(_mlp, x, y)
    torch.manual_seed(0)
    model = _mlp()
    model.compile(lamina.optimizers.Adam(0.01), lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    counter = _BatchCounter()
    logs = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[counter]).history
    assert counter.batches == expected_batches
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(logs["loss"], ref_logs["loss"], rtol=1e-6)


def test_jit_compile_traces_layers_with_training_argument_without_fallback(recwarn):
    import warnings

    import numpy as np

    import lamina

    model = lamina.Sequential([lamina.layers.Dense(8, activation="relu", input_shape=(4,)), lamina.layers.Dropout(0.5),
                               lamina.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", jit_compile=True)
    warnings.simplefilter("always")
    model.fit(np.random.rand(32, 4).astype("float32"), np.random.randint(0, 2, 32), epochs=2, verbose=0)
    assert not [w for w in recwarn if "could not compile" in str(w.message)]
    assert not model._compiled_step.failed


def _adam_family_case(optimizer):
    x, y = _data((6,))
    x, y = np.concatenate([x, x[:5]]), np.concatenate([y, y[:5]])  # 29 samples: a last batch of 5

    def run(jit):
        torch.manual_seed(0)
        model = _mlp()
        model.compile(optimizer(), lamina.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
        logs = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
        return model, logs

    return run(False), run(True)


@pytest.mark.parametrize("optimizer", [
    lambda: lamina.optimizers.Adam(0.01),
    lambda: lamina.optimizers.AdamW(0.01, weight_decay=0.1),
    lambda: lamina.optimizers.Adamax(0.01),
    lambda: lamina.optimizers.Nadam(0.01),
    lambda: lamina.optimizers.Adam(lamina.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)),
    lambda: lamina.optimizers.Adam(lambda: 0.01),  # a user callable: computed inside the graph
], ids=["adam", "adamw", "adamax", "nadam", "host_schedule", "callable_lr"])
def test_jit_optimizer_steps_match_eager_over_epochs_with_a_short_last_batch(optimizer):
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*jit_compile")
        (eager, eager_logs), (compiled, compiled_logs) = _adam_family_case(optimizer)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(compiled_logs["loss"], eager_logs["loss"], rtol=1e-5)
    assert int(compiled.optimizer.iterations) == int(eager.optimizer.iterations) == 12


def test_each_model_and_each_compile_gets_its_own_graph():
    x, y = _data((6,))
    a, _ = _fit(_mlp, x, y, jit_compile=True)
    b, _ = _fit(_mlp, x, y, jit_compile=True)
    before = [w.copy() for w in a.get_weights()]
    b.fit(x, y, batch_size=8, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(before, a.get_weights()))  # b's step never touches a
    a.layers[0].trainable = False  # as in Keras, takes effect at the next compile()
    a.compile(lamina.optimizers.Adam(0.01), lamina.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    frozen = a.layers[0].get_weights()[0].copy()
    trained = a.layers[1].get_weights()[0].copy()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*jit_compile")
        a.fit(x, y, batch_size=8, verbose=0)
    np.testing.assert_array_equal(a.layers[0].get_weights()[0], frozen)
    assert not np.array_equal(a.layers[1].get_weights()[0], trained)


def test_a_jit_trained_model_deep_copies_and_pickles_with_its_variables():
    import copy
    import pickle

    x, y = _data((6,))
    model, _ = _fit(_mlp, x, y, jit_compile=True)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert clone._compiled_step is None
        assert isinstance(clone.layers[0].kernel, lamina.Variable) and clone.layers[0].kernel.path == "dense/kernel"
        np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_jit_convnet_with_a_short_last_batch_compiles():
    x, y = _data((6, 6, 2))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*jit_compile")
        model = _convnet()
        model.compile(lamina.optimizers.Adam(0.01), lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=True)
        model.fit(x[:21], y[:21], batch_size=8, epochs=1, verbose=0)
    assert not model._compiled_step.failed


def test_new_batch_shapes_get_their_own_graphs_under_the_reduced_guards():
    x, y = _data((6,))
    model, _ = _fit(_mlp, x, y, jit_compile=True)
    step = model._compiled_step
    reference = _mlp()
    reference.set_weights(model.get_weights())
    reference.compile(lamina.optimizers.Adam(0.01), lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    reference.optimizer.build(reference.trainable_weights)
    for a, b in zip(reference.optimizer.variables, model.optimizer.variables):
        a.data.copy_(b.data)
    reference.optimizer.iterations = int(model.optimizer.iterations)
    for m in (model, reference):  # batches of 5 and 2 (new shapes) after batches of 8
        m.fit(x[:7], y[:7], batch_size=5, epochs=1, shuffle=False, verbose=0)
    assert model._compiled_step is step and not step.failed
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_weights_cast_to_another_dtype_rebuild_the_compiled_step():
    x, y = _data((6,))
    model, _ = _fit(_mlp, x, y, jit_compile=True)
    step = model._compiled_step
    assert step.still_valid()
    model.to(torch.float64)  # a new dtype for every weight: the old graph no longer fits
    assert not step.still_valid()
    model.to(torch.float32)
    assert step.still_valid()


def test_learning_rate_changed_by_a_callback_reaches_the_compiled_step():
    x, y = _data((6,))

    def run(jit):
        torch.manual_seed(0)
        model = _mlp()
        model.compile(lamina.optimizers.Adam(0.01), lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=jit)
        schedule = lamina.callbacks.LearningRateScheduler(lambda epoch, lr: 0.05 if epoch == 1 else 0.001)
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, callbacks=[schedule])
        return model

    eager, compiled = run(False), run(True)
    assert float(compiled.optimizer.learning_rate) == pytest.approx(0.001)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_multi_input_multi_output_model_compiles_without_fallback_and_matches_eager():
    rs = np.random.RandomState(0)
    xa, xb = rs.randn(21, 4).astype("float32"), rs.randn(21, 3).astype("float32")
    y_out, y_aux = np.eye(3, dtype="float32")[rs.randint(0, 3, 21)], rs.randn(21, 1).astype("float32")

    def run(jit):
        torch.manual_seed(0)
        a, b = lamina.Input((4,), name="a"), lamina.Input((3,), name="b")
        hidden = lamina.layers.Dense(5, activation="relu")(lamina.layers.concatenate([a, b]))
        out = lamina.layers.Dense(3, activation="softmax", name="out")(hidden)
        aux = lamina.layers.Dense(1, name="aux")(hidden)
        model = lamina.Model([a, b], [out, aux])
        model.compile("sgd", {"out": "mean_squared_error", "aux": "mse"}, loss_weights={"out": 1.0, "aux": 0.5},
                      metrics={"out": [lamina.metrics.mae, "accuracy"]}, jit_compile=jit)
        return model.fit({"a": xa, "b": xb}, {"out": y_out, "aux": y_aux}, batch_size=8, epochs=2, verbose=0).history

    eager = run(False)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*jit_compile")
        compiled = run(True)
    assert sorted(compiled) == sorted(eager) and "aux_loss" in compiled
    for key in eager:
        np.testing.assert_allclose(compiled[key], eager[key], rtol=1e-5, atol=1e-7, err_msg=key)
