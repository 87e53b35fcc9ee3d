"""DataParallel on 2 CPU processes (gloo) started by `lamina.distribute.launch`.

Spawning costs several seconds per process, so one launch covers most behaviours (parity with a
single-process run, identical logs, rank-0-only files, evaluate, EarlyStopping, a stop request
from one rank, BackupAndRestore resume) and a second one kills a rank.
"""

import os
import time

import numpy as np
import pytest
import torch

import lamina
from lamina.distribute.data import shard_bounds

EPOCHS, BATCH = 3, 10


def _data():
    rs = np.random.RandomState(0)
    return rs.randn(37, 6).astype("float32"), rs.randint(0, 3, 37)  # last global batch: 7 = 4 + 3 samples


def _model(seed, steps_per_execution=1):
    torch.manual_seed(seed)
    model = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(8, activation="relu"), lamina.layers.Dense(3)])
    model.compile(lamina.optimizers.SGD(0.1, momentum=0.9),
                  lamina.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    return model


class _FailAtEpoch(lamina.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("simulated interruption")


def _train_worker(tmp):
    strategy = lamina.distribute.DataParallel(timeout=30)
    rank = strategy.rank
    with strategy.scope():
        model = _model(seed=100 + rank, steps_per_execution=2)  # different initial weights: rank 0's must win
    x, y = _data()
    files = [lamina.callbacks.CSVLogger(os.path.join(tmp, f"log_rank{rank}.csv")),
             lamina.callbacks.ModelCheckpoint(os.path.join(tmp, f"ckpt_rank{rank}.weights.h5"), save_weights_only=True)]
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, validation_data=(x[:10], y[:10]), callbacks=files,
                        verbose=0)
    out = {"rank": rank, "replicas": strategy.num_replicas_in_sync, "weights": model.get_weights(),
           "history": history.history, "seed": strategy.last_shuffle_seed,
           "evaluate": model.evaluate(x, y, batch_size=BATCH, verbose=0)}
    # predict: each rank runs its block of the samples (counted by a batch hook), every rank returns them all.
    seen = []
    counter = lamina.callbacks.LambdaCallback(on_predict_batch_end=lambda b, logs: seen.append(len(logs["outputs"])))
    out["predict"] = model.predict(x, batch_size=BATCH, verbose=0, callbacks=[counter])
    out["predicted_here"] = seen
    # EarlyStopping decides from the reduced logs, so both ranks stop at the same epoch.
    stop = lamina.callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=1)
    out["early_epochs"] = len(model.fit(x, y, batch_size=BATCH, epochs=6, callbacks=[stop], verbose=0).history["loss"])
    # A stop request from rank 1 alone stops every rank.
    asker = lamina.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: setattr(model, "stop_training", rank == 1))
    out["asked_epochs"] = len(model.fit(x, y, batch_size=BATCH, epochs=4, callbacks=[asker], verbose=0).history["loss"])
    # BackupAndRestore: interrupted at epoch 2, the second run resumes there and finishes.
    backup_dir = os.path.join(tmp, "backup")
    backup = lamina.callbacks.BackupAndRestore(backup_dir)
    try:
        model.fit(x, y, batch_size=BATCH, epochs=4, callbacks=[backup, _FailAtEpoch(2)], verbose=0)
    except KeyboardInterrupt:
        pass
    out["backup_written"] = os.path.exists(os.path.join(backup_dir, "latest.weights.h5"))
    resumed = model.fit(x, y, batch_size=BATCH, epochs=4, callbacks=[backup], verbose=0)
    out["resumed_epochs"] = len(resumed.history["loss"])
    out["backup_deleted"] = not os.path.exists(backup_dir)
    out["final_weights"] = model.get_weights()
    gathered = [None] * strategy.num_replicas_in_sync
    torch.distributed.all_gather_object(gathered, out)
    return gathered


def _reference_run(seed):
    """Single process, same initial weights (rank 0's), same global batches in the same shuffled order."""
    model = _model(seed=100)
    x, y = _data()
    losses = []
    for epoch in range(EPOCHS):
        perm = lamina.distribute.epoch_permutation(seed, epoch, len(x)).numpy()
        losses.append(model.fit(x[perm], y[perm], batch_size=BATCH, epochs=1, shuffle=False, verbose=0).history["loss"][0])
    return model, losses


def test_two_processes_match_single_process(tmp_path):
    rank0, rank1 = lamina.distribute.launch(_train_worker, 2, str(tmp_path), timeout=120)
    assert (rank0["rank"], rank1["rank"], rank0["replicas"]) == (0, 1, 2)
    for a, b in zip(rank0["weights"], rank1["weights"]):
        np.testing.assert_array_equal(a, b)
    assert rank0["history"] == rank1["history"]
    assert sorted(rank0["history"]) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    reference, losses = _reference_run(rank0["seed"])
    for a, b in zip(rank0["weights"], reference.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(rank0["history"]["loss"], losses, rtol=1e-5)
    x, y = _data()
    np.testing.assert_allclose(rank0["evaluate"], reference.evaluate(x, y, batch_size=BATCH, verbose=0), rtol=1e-5)
    assert rank0["evaluate"] == rank1["evaluate"]
    np.testing.assert_allclose(rank0["predict"], reference.predict(x, batch_size=BATCH, verbose=0), atol=1e-6)
    np.testing.assert_array_equal(rank0["predict"], rank1["predict"])
    assert (rank0["predicted_here"], rank1["predicted_here"]) == ([5, 5, 5, 4], [5, 5, 5, 3])  # 19 + 18 of 37
    assert sorted(os.listdir(tmp_path)) == ["ckpt_rank0.weights.h5", "log_rank0.csv"]  # rank 0 writes, rank 1 not
    assert rank0["early_epochs"] == rank1["early_epochs"] == 2
    assert rank0["asked_epochs"] == rank1["asked_epochs"] == 1
    assert rank0["backup_written"] and rank1["backup_written"]
    assert rank0["resumed_epochs"] == rank1["resumed_epochs"] == 2  # epochs 2 and 3 only
    assert rank0["backup_deleted"]
    for a, b in zip(rank0["final_weights"], rank1["final_weights"]):
        np.testing.assert_array_equal(a, b)


class _DieAtBatch(lamina.callbacks.Callback):
    def __init__(self, rank):
        super().__init__()
        self.rank = rank

    def on_train_batch_end(self, batch, logs=None):
        if self.rank == 1 and batch == 1:
            os._exit(3)  # a crash: no exception, no cleanup


def _die_worker():
    strategy = lamina.distribute.DataParallel(timeout=15)
    with strategy.scope():
        model = _model(seed=0)
    x, y = _data()
    model.fit(x, y, batch_size=BATCH, epochs=2, callbacks=[_DieAtBatch(strategy.rank)], verbose=0)


def test_dead_rank_makes_the_other_fail_with_a_clear_error():
    start = time.monotonic()
    with pytest.raises(lamina.distribute.LaunchError) as info:
        lamina.distribute.launch(_die_worker, 2, timeout=90, grace=30)
    message = str(info.value)
    assert "rank 1: process exited with code 3" in message
    assert "rank 0: DistributedError" in message and "the gradient all_reduce failed on rank 0 of 2" in message
    assert time.monotonic() - start < 60


@pytest.mark.parametrize("size, world, expected", [
    (10, 2, [(0, 5), (5, 10)]), (7, 2, [(0, 4), (4, 7)]), (10, 4, [(0, 3), (3, 6), (6, 8), (8, 10)]),
    (1, 2, [(0, 1), (1, 1)]),
])
def test_shard_bounds(size, world, expected):
    assert [shard_bounds(size, r, world) for r in range(world)] == expected


def test_single_process_strategy_changes_nothing():
    x, y = _data()
    strategy = lamina.distribute.MirroredStrategy()
    assert strategy.num_replicas_in_sync == 1 and strategy.rank == 0
    torch.manual_seed(5)
    with strategy.scope():
        model = _model(seed=3)
    assert model._distribution is None
    h1 = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0).history
    torch.manual_seed(5)
    plain = _model(seed=3)
    h2 = plain.fit(x, y, batch_size=BATCH, epochs=2, verbose=0).history
    assert h1 == h2
    for a, b in zip(model.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_launch_rejects_bad_nprocs():
    with pytest.raises(ValueError, match="nprocs"):
        lamina.distribute.launch(_die_worker, 0)
