"""checkpoint: the resume state is safetensors + JSON (never unpickled), exact, and read on the CPU."""

from __future__ import annotations

import math
import pickle

import pytest
import torch

from silhouette_cam.training.checkpoint import load_state, read_state, save_state

RUN_KEY = {"model": "snet", "num_classes": 3, "size": [64, 64], "epochs": 2, "batch_size": 4, "seed": 0,
           "val_fraction": 0.2}


def trained_state() -> tuple[dict, torch.nn.Module, torch.optim.Optimizer, object]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=10)
    for _ in range(2):
        model(torch.rand(2, 3, 8, 8)).square().mean().backward()
        optimizer.step()
        scheduler.step()
    state = {"run_key": RUN_KEY, "epoch": 1, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "best_miou": 0.5, "best_score": -math.inf, "best_epoch": 1,
             "history": [{"epoch": 0, "loss": float("nan"), "val_miou": 0.25}], "temperature": 20.0}
    return state, model, optimizer, scheduler


def test_round_trip_is_exact_and_resumes_optimizer_and_schedule(tmp_path):
    state, model, optimizer, scheduler = trained_state()
    path = tmp_path / "w.train-state"
    save_state(path, state)
    loaded = load_state(path, RUN_KEY)
    for name, tensor in state["model"].items():
        assert torch.equal(loaded["model"][name], tensor) and loaded["model"][name].device.type == "cpu"
    assert math.isnan(loaded["history"][0]["loss"]) and loaded["best_score"] == -math.inf
    assert loaded["temperature"] == 20.0 and loaded["run_key"] == RUN_KEY
    fresh = torch.optim.AdamW(model.parameters(), lr=1e-3)
    fresh.load_state_dict(loaded["optimizer"])
    assert fresh.state_dict()["param_groups"] == optimizer.state_dict()["param_groups"]
    for key, moments in optimizer.state_dict()["state"].items():  # int keys survive JSON
        for name, value in moments.items():
            assert torch.equal(fresh.state_dict()["state"][key][name], value)
    schedule = torch.optim.lr_scheduler.OneCycleLR(fresh, max_lr=1e-3, total_steps=10)
    schedule.load_state_dict(loaded["scheduler"])
    assert schedule.state_dict() == scheduler.state_dict()


def test_pickles_and_garbage_are_refused_without_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("the state file was unpickled",))

    (tmp_path / "p.train-state").write_bytes(pickle.dumps({"run_key": Boom()}))
    (tmp_path / "z.train-state").write_bytes(b"")
    (tmp_path / "t.train-state").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    for name in ("p", "z", "t"):
        with pytest.raises(ValueError, match=rf"training state .*{name}.train-state is not a silhouette-cam "
                                             r"training state \("):
            read_state(tmp_path / f"{name}.train-state")


def test_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "f.train-state"))
    with pytest.raises(ValueError, match="no training state in its metadata"):
        read_state(tmp_path / "f.train-state")


def test_old_pickle_state_is_named_and_not_read(tmp_path):
    torch.save({"epoch": 1}, tmp_path / "w.train.pt")
    with pytest.raises(FileNotFoundError, match=r"w.train.pt is an older torch-pickle state, which is no longer "
                                                r"read \(expected w.train-state\)"):
        load_state(tmp_path / "w.train-state", RUN_KEY)


def test_state_on_an_accelerator_loads_on_the_cpu(tmp_path):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    state = {"run_key": RUN_KEY, "model": {"w": torch.ones(3, device=device)}}
    save_state(tmp_path / "g.train-state", state)
    assert load_state(tmp_path / "g.train-state", RUN_KEY)["model"]["w"].device.type == "cpu"


def test_unsaveable_values_are_named(tmp_path):
    with pytest.raises(TypeError, match="holds a function, which cannot be saved without pickling"):
        save_state(tmp_path / "x.train-state", {"f": lambda: 0})
    assert not (tmp_path / "x.train-state").exists()
