"""`fit(config)`: one training run from folders to a weights file — split, balance, train, validate, keep
the best or the last epoch, resume, export to ONNX. Deterministic for a seed on CPU (every epoch reseeds
shuffling and augmentation from (seed, epoch), so a resumed run continues exactly as an uninterrupted one).

`fit` reads as the run's steps; each step is a small function below (torchvision references style)."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from silhouette_cam.model import WeightFacts, load_weights, save_weights, shipped_weights_path
from silhouette_cam.segmenter import resolve_device
from silhouette_cam.training import checkpoint
from silhouette_cam.training.config import MODEL_CHOICES, TrainConfig
from silhouette_cam.training.dataset import (
    LabelSpec,
    SegmentationFolder,
    class_pixel_counts,
    find_pairs,
    read_label_spec,
    split_pairs,
)
from silhouette_cam.training.loops import EvalResult, collect_logits, evaluate, train_one_epoch
from silhouette_cam.training.losses import SegmentationLoss, fit_temperature
from silhouette_cam.training.starting_point import build_for_training
from silhouette_cam.training.transforms import eval_transform, train_transform
from silhouette_cam.training.weightmaps import class_weights, unet_border_term

CALIBRATION_IMAGES = 256  # training images the loss temperature is fitted on (2 x 256 x 256 logits each)


@dataclasses.dataclass
class TrainResult:
    """The run's outcome: `best_epoch` is the epoch written to `out` (the best by validation score, or the
    last one with `keep="last"`) and `best_miou` its validation mean IoU; history: one dict per epoch
    (epoch, loss, val_miou, val_boundary_f, seconds). `onnx` is the export beside `out`, or None."""

    out: Path
    facts: WeightFacts | None
    best_miou: float
    best_epoch: int
    history: list[dict]
    class_weights: list[float]
    onnx: Path | None = None


@dataclasses.dataclass
class Data:
    """The split, balanced data of a run."""

    spec: LabelSpec
    train_pairs: list
    val_pairs: list
    weights: np.ndarray                   # [C] float32 class weights of the loss
    train_set: SegmentationFolder | None = None  # built by make_datasets, at the model's size
    val_set: SegmentationFolder | None = None


@dataclasses.dataclass
class Progress:
    """What a run carries from epoch to epoch (and across a resume)."""

    start_epoch: int = 0
    best_score: float = -math.inf
    best_miou: float = -math.inf
    best_epoch: int = 0
    history: list[dict] = dataclasses.field(default_factory=list)
    facts: WeightFacts | None = None     # of the weights written to --out by this process


def setup_device(config: TrainConfig) -> torch.device:
    device = torch.device(resolve_device(config.device)[0])  # the segmenter's rules and messages
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return device


def load_data(config: TrainConfig) -> Data:
    """Pairs, the train/val split and the loss's class weights (every training mask is read and checked)."""
    spec = read_label_spec(config.masks, config.classes)
    train_pairs, val_pairs = split_pairs(find_pairs(config.images, config.masks), config.val_fraction, config.seed)
    counts, image_pixels = class_pixel_counts(train_pairs, spec)  # also validates every training mask
    if isinstance(config.class_weights, str):
        weights = class_weights(counts, image_pixels, config.class_weights)
    else:
        weights = np.asarray(config.class_weights, np.float32)
        if weights.shape != (spec.num_classes,):
            raise ValueError(f"class weights have shape {weights.shape}, expected ({spec.num_classes},)")
    return Data(spec, train_pairs, val_pairs, weights)


def make_datasets(config: TrainConfig, data: Data, size: tuple[int, int]) -> None:
    """Fill `data.train_set` (augmented, optional border term) and `data.val_set` at `size` (h, w)."""
    spec = data.spec
    border = None
    if config.border_weights:

        def border(mask: np.ndarray) -> np.ndarray:
            return unet_border_term(mask, w0=config.w0, sigma=config.sigma_px, ignore_index=spec.ignore_index)

    augment = train_transform(size, ignore_index=spec.ignore_index, flip=config.flip, augment=config.augment,
                              affine=config.affine)
    data.train_set = SegmentationFolder(data.train_pairs, spec, augment, border, size=size)
    data.val_set = SegmentationFolder(data.val_pairs, spec, eval_transform(size), None, size=size)
    if len(data.train_set) < config.batch_size:
        raise ValueError(f"{len(data.train_set)} training images are fewer than --batch-size {config.batch_size}")


def check_out_is_not_the_start(config: TrainConfig) -> None:
    variant = MODEL_CHOICES[config.model][1]
    init_path = config.init_weights or (shipped_weights_path(variant) if variant else None)
    if init_path is not None and config.out.resolve() == Path(init_path).resolve():
        raise ValueError(f"--out {config.out} would overwrite the starting weights; pick another name")


def loss_temperature(config: TrainConfig, state: dict | None, base_facts: WeightFacts | None,
                     model: torch.nn.Module, data: Data, size: tuple[int, int], device: torch.device) -> float:
    """The loss's logit temperature: as set, as resumed, fitted to the starting weights (fine-tuning), or 1."""
    if config.temperature is not None:
        return config.temperature
    if state is not None:
        return state.get("temperature", 1.0)
    if base_facts is None:
        return 1.0
    # A seeded sample of at most CALIBRATION_IMAGES: the logits are held in memory.
    sample = np.random.default_rng(config.seed).permutation(len(data.train_pairs))[:CALIBRATION_IMAGES]
    calibration = [data.train_pairs[i] for i in sorted(sample)]
    plain = SegmentationFolder(calibration, data.spec, eval_transform(size), None, size=size)
    logits, masks = collect_logits(model, DataLoader(plain, batch_size=config.batch_size), device)
    temperature = fit_temperature(logits, masks, ignore_index=data.spec.ignore_index)
    if config.progress:
        tqdm.write(f"loss temperature {temperature:.1f} (calibrates the starting weights' logits)")
    return temperature


def make_optimizer(config: TrainConfig, model: torch.nn.Module, steps_per_epoch: int):
    """-> (AdamW, one-cycle scheduler stepped per batch)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch, pct_start=0.1
    )
    return optimizer, scheduler


def restore(state: dict, model: torch.nn.Module, optimizer, scheduler) -> Progress:
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return Progress(state["epoch"], state["best_score"], state["best_miou"], state["best_epoch"],
                    list(state["history"]))


@dataclasses.dataclass
class Run:
    """Everything the epochs need, built once by `fit`."""

    config: TrainConfig
    device: torch.device
    data: Data
    model: torch.nn.Module
    base_facts: WeightFacts | None
    size: tuple[int, int]
    criterion: SegmentationLoss
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    val_loader: DataLoader
    loader_options: dict
    run_key: dict
    training_info: dict

    @property
    def steps_per_epoch(self) -> int:
        return len(self.data.train_set) // self.config.batch_size

    def evaluate(self) -> EvalResult:
        return evaluate(self.model, self.val_loader, self.data.spec.num_classes, self.device,
                        ignore_index=self.data.spec.ignore_index)


def keep_if_chosen(run: Run, progress: Progress, epoch: int, result: EvalResult) -> None:
    """Write this epoch's weights to --out if `config.keep` chooses them: always for "last", else when
    the `best_by` validation score beats every earlier epoch."""
    config = run.config
    score = result.mean_iou if config.best_by == "miou" else result.boundary_f
    if config.keep == "best" and score <= progress.best_score:
        return
    progress.best_score, progress.best_miou, progress.best_epoch = score, result.mean_iou, epoch
    facts = checkpoint.trained_facts(
        run.base_facts,
        name=config.out.stem,
        architecture=MODEL_CHOICES[config.model][0],
        size=run.size,
        classes=run.data.spec.class_names,
        encoder=config.encoder if run.base_facts is None else None,
        source=f"silhouette-cam train --model {config.model}",
        training={**run.training_info, "epoch": epoch, "kept": config.keep,
                  "val_miou": round(progress.best_miou, 5), "val_boundary_f": round(result.boundary_f, 5)},
    )
    progress.facts = save_weights(config.out, run.model.state_dict(), facts)


def score_starting_weights(run: Run, progress: Progress) -> None:
    """Fine-tuning: score the starting weights first (with --keep best, the result is then never worse
    than the start on the validation split)."""
    result = run.evaluate()
    progress.history.append({"epoch": 0, "loss": float("nan"), "val_miou": result.mean_iou,
                             "val_boundary_f": result.boundary_f, "seconds": 0.0})
    if run.config.progress:
        tqdm.write(f"starting weights: val mIoU {result.mean_iou:.4f}, boundary F {result.boundary_f:.4f}")
    keep_if_chosen(run, progress, 0, result)


def train_and_validate_epoch(run: Run, epoch: int) -> tuple[float, EvalResult]:
    """One epoch (0-based `epoch`) with its progress bar, seeded from (seed, epoch) -> (mean loss, validation)."""
    config = run.config
    torch.manual_seed(config.seed * 100_003 + epoch)  # augmentation draws of this epoch
    shuffle = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
    train_loader = DataLoader(run.data.train_set, batch_size=config.batch_size, shuffle=True, drop_last=True,
                              generator=shuffle, **run.loader_options)
    bar = tqdm(total=run.steps_per_epoch, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
               disable=not config.progress, leave=True, dynamic_ncols=True)

    def on_step(value: float) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{value:.4f}")

    try:
        loss = train_one_epoch(run.model, train_loader, run.criterion, run.optimizer, run.device,
                               scheduler=run.scheduler, on_step=on_step)
        result = run.evaluate()
        bar.set_postfix(loss=f"{loss:.4f}", val_mIoU=f"{result.mean_iou:.4f}", val_bF=f"{result.boundary_f:.4f}")
    finally:
        bar.close()
    return loss, result


def save_resume_state(run: Run, progress: Progress, epochs_done: int, temperature: float) -> None:
    checkpoint.save_state(run.config.state_path, {
        "run_key": run.run_key, "epoch": epochs_done, "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(), "scheduler": run.scheduler.state_dict(),
        "best_miou": progress.best_miou, "best_score": progress.best_score, "best_epoch": progress.best_epoch,
        "history": progress.history, "temperature": temperature,
    })


def another_epoch_would_pass_the_limit(config: TrainConfig, started: float, epoch_seconds: float) -> bool:
    if config.time_limit_min is None:
        return False
    return (time.monotonic() - started) / 60 + epoch_seconds / 60 > config.time_limit_min


def export_beside(config: TrainConfig) -> Path | None:
    """Write NAME.onnx beside the kept weights (the CPU then runs them in ONNX Runtime, without torch);
    None, with a note, where the export packages are missing: the weights still run in PyTorch."""
    from silhouette_cam.model.onnx_export import export_onnx

    try:
        return export_onnx(config.out)
    except ValueError as exc:
        if config.progress:
            tqdm.write(f"no ONNX export written ({exc}); the CPU will run these weights in PyTorch")
        return None


def fit(config: TrainConfig) -> TrainResult:
    """Train as `config` says; writes the kept weights (`config.keep`) to `config.out`, the state to
    `config.state_path` and (with `config.export_onnx`) their ONNX export beside them."""
    device = setup_device(config)
    data = load_data(config)
    model, base_facts, size = build_for_training(config, data.spec.num_classes)
    check_out_is_not_the_start(config)
    model.to(device)
    make_datasets(config, data, size)
    loader_options = {"num_workers": config.workers, "pin_memory": device.type == "cuda"}
    run_key = {"model": config.model, "num_classes": data.spec.num_classes, "size": list(size),
               "epochs": config.epochs, "batch_size": config.batch_size, "seed": config.seed,
               "val_fraction": config.val_fraction}
    state = checkpoint.load_state(config.state_path, run_key) if config.resume else None
    temperature = loss_temperature(config, state, base_facts, model, data, size, device)
    criterion = SegmentationLoss(torch.from_numpy(data.weights), dice_weight=config.dice_weight,
                                 ignore_index=data.spec.ignore_index, temperature=temperature).to(device)
    optimizer, scheduler = make_optimizer(config, model, len(data.train_set) // config.batch_size)
    progress = restore(state, model, optimizer, scheduler) if state is not None else Progress()
    training_info = {"images": str(config.images), "train_images": len(data.train_set),
                     "val_images": len(data.val_set), "seed": config.seed, "device": str(device),
                     "class_weights": [round(float(w), 4) for w in data.weights],
                     "loss_temperature": round(float(temperature), 4)}
    val_loader = DataLoader(data.val_set, batch_size=config.batch_size, shuffle=False, **loader_options)
    run = Run(config, device, data, model, base_facts, size, criterion, optimizer, scheduler, val_loader,
              loader_options, run_key, training_info)

    started = time.monotonic()
    if base_facts is not None and progress.start_epoch == 0:
        score_starting_weights(run, progress)
    for epoch in range(progress.start_epoch, config.epochs):
        epoch_started = time.monotonic()
        loss, result = train_and_validate_epoch(run, epoch)
        record = {"epoch": epoch + 1, "loss": loss, "val_miou": result.mean_iou,
                  "val_boundary_f": result.boundary_f, "seconds": time.monotonic() - epoch_started}
        progress.history.append(record)
        keep_if_chosen(run, progress, epoch + 1, result)
        save_resume_state(run, progress, epoch + 1, temperature)
        if another_epoch_would_pass_the_limit(config, started, record["seconds"]):
            if config.progress:
                tqdm.write(f"stopping after epoch {epoch + 1}: another epoch would pass the "
                           f"{config.time_limit_min:g}-minute limit")
            break
    facts = progress.facts
    if facts is None and config.out.is_file():  # resumed run that found nothing better
        facts = load_weights(config.out)[1]
    onnx = export_beside(config) if config.export_onnx and config.out.is_file() else None
    return TrainResult(config.out, facts, progress.best_miou, progress.best_epoch, progress.history,
                       [float(w) for w in data.weights], onnx)
