"""`fit(config)`: one training run from folders to a weights file — split, balance, train, validate, keep
the best or the last epoch, resume. Deterministic for a seed on CPU (every epoch reseeds shuffling and
augmentation from (seed, epoch), so a resumed run continues exactly as an uninterrupted one)."""

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
from silhouette_cam.training import checkpoint
from silhouette_cam.training.config import MODEL_CHOICES, TrainConfig
from silhouette_cam.training.dataset import (
    SegmentationFolder,
    class_pixel_counts,
    find_pairs,
    read_label_spec,
    split_pairs,
)
from silhouette_cam.training.loops import collect_logits, evaluate, train_one_epoch
from silhouette_cam.training.losses import SegmentationLoss, fit_temperature
from silhouette_cam.training.starting_point import build_for_training, pick_device
from silhouette_cam.training.transforms import eval_transform, train_transform
from silhouette_cam.training.weightmaps import class_weights, unet_border_term

CALIBRATION_IMAGES = 256  # training images the loss temperature is fitted on (2 x 256 x 256 logits each)


@dataclasses.dataclass
class TrainResult:
    """The run's outcome: `best_epoch` is the epoch written to `out` (the best by validation score, or the
    last one with `keep="last"`) and `best_miou` its validation mean IoU; history: one dict per epoch
    (epoch, loss, val_miou, val_boundary_f, seconds)."""

    out: Path
    facts: WeightFacts | None
    best_miou: float
    best_epoch: int
    history: list[dict]
    class_weights: list[float]


def fit(config: TrainConfig) -> TrainResult:
    """Train as `config` says; writes the kept weights (`config.keep`) to `config.out` and the state to
    `config.state_path`."""
    device = pick_device(config.device)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    spec = read_label_spec(config.masks, config.classes)
    pairs = find_pairs(config.images, config.masks)
    train_pairs, val_pairs = split_pairs(pairs, config.val_fraction, config.seed)
    counts, image_pixels = class_pixel_counts(train_pairs, spec)  # also validates every training mask
    if isinstance(config.class_weights, str):
        weights = class_weights(counts, image_pixels, config.class_weights)
    else:
        weights = np.asarray(config.class_weights, np.float32)
        if weights.shape != (spec.num_classes,):
            raise ValueError(f"class weights have shape {weights.shape}, expected ({spec.num_classes},)")

    model, base_facts, size = build_for_training(config, spec.num_classes)
    variant = MODEL_CHOICES[config.model][1]
    init_path = config.init_weights or (shipped_weights_path(variant) if variant else None)
    if init_path is not None and config.out.resolve() == Path(init_path).resolve():
        raise ValueError(f"--out {config.out} would overwrite the starting weights; pick another name")
    model.to(device)

    border = None
    if config.border_weights:

        def border(mask: np.ndarray) -> np.ndarray:
            return unet_border_term(mask, w0=config.w0, sigma=config.sigma_px, ignore_index=spec.ignore_index)

    train_set = SegmentationFolder(
        train_pairs,
        spec,
        train_transform(
            size, ignore_index=spec.ignore_index, flip=config.flip, augment=config.augment, affine=config.affine
        ),
        border,
        size=size,
    )
    val_set = SegmentationFolder(val_pairs, spec, eval_transform(size), None, size=size)
    if len(train_set) < config.batch_size:
        raise ValueError(f"{len(train_set)} training images are fewer than --batch-size {config.batch_size}")
    loader_options = {"num_workers": config.workers, "pin_memory": device.type == "cuda"}
    val_loader = DataLoader(val_set, batch_size=config.batch_size, shuffle=False, **loader_options)
    steps_per_epoch = len(train_set) // config.batch_size

    run_key = {
        "model": config.model,
        "num_classes": spec.num_classes,
        "size": list(size),
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "seed": config.seed,
        "val_fraction": config.val_fraction,
    }
    start_epoch, best_score, best_miou, best_epoch, history = 0, -math.inf, -math.inf, 0, []
    state = checkpoint.load_state(config.state_path, run_key) if config.resume else None
    temperature = config.temperature
    if temperature is None and state is not None:
        temperature = state.get("temperature", 1.0)
    elif temperature is None:
        temperature = 1.0
        if base_facts is not None:  # fine-tuning: calibrate the starting weights on the training images
            # A seeded sample of at most CALIBRATION_IMAGES: the logits are held in memory.
            sample = np.random.default_rng(config.seed).permutation(len(train_pairs))[:CALIBRATION_IMAGES]
            calibration = [train_pairs[i] for i in sorted(sample)]
            plain = SegmentationFolder(calibration, spec, eval_transform(size), None, size=size)
            logits, masks = collect_logits(model, DataLoader(plain, batch_size=config.batch_size), device)
            temperature = fit_temperature(logits, masks, ignore_index=spec.ignore_index)
            del logits, masks
            if config.progress:
                tqdm.write(f"loss temperature {temperature:.1f} (calibrates the starting weights' logits)")
    criterion = SegmentationLoss(
        torch.from_numpy(weights),
        dice_weight=config.dice_weight,
        ignore_index=spec.ignore_index,
        temperature=temperature,
    ).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch, pct_start=0.1
    )
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best_miou, best_epoch = state["epoch"], state["best_miou"], state["best_epoch"]
        best_score = state["best_score"]
        history = list(state["history"])

    training_info = {
        "images": str(config.images),
        "train_images": len(train_set),
        "val_images": len(val_set),
        "seed": config.seed,
        "device": str(device),
        "class_weights": [round(float(w), 4) for w in weights],
        "loss_temperature": round(float(temperature), 4),
    }
    started = time.monotonic()
    facts = None

    def keep_if_chosen(epoch: int, result) -> None:
        """Write this epoch's weights to --out if `config.keep` chooses them: always for "last", else when
        the `best_by` validation score beats every earlier epoch."""
        nonlocal best_score, best_miou, best_epoch, facts
        score = result.mean_iou if config.best_by == "miou" else result.boundary_f
        if config.keep == "best" and score <= best_score:
            return
        best_score, best_miou, best_epoch = score, result.mean_iou, epoch
        facts = checkpoint.trained_facts(
            base_facts,
            name=config.out.stem,
            architecture=MODEL_CHOICES[config.model][0],
            size=size,
            classes=spec.class_names,
            encoder=config.encoder if base_facts is None else None,
            source=f"silhouette-cam train --model {config.model}",
            training={
                **training_info,
                "epoch": epoch,
                "kept": config.keep,
                "val_miou": round(best_miou, 5),
                "val_boundary_f": round(result.boundary_f, 5),
            },
        )
        facts = save_weights(config.out, model.state_dict(), facts)

    if base_facts is not None and start_epoch == 0:
        # Fine-tuning: score the starting weights first (with --keep best, the result is then never
        # worse than the start on the validation split).
        result = evaluate(model, val_loader, spec.num_classes, device, ignore_index=spec.ignore_index)
        history.append(
            {
                "epoch": 0,
                "loss": float("nan"),
                "val_miou": result.mean_iou,
                "val_boundary_f": result.boundary_f,
                "seconds": 0.0,
            }
        )
        if config.progress:
            tqdm.write(f"starting weights: val mIoU {result.mean_iou:.4f}, boundary F {result.boundary_f:.4f}")
        keep_if_chosen(0, result)
    for epoch in range(start_epoch, config.epochs):
        epoch_started = time.monotonic()
        torch.manual_seed(config.seed * 100_003 + epoch)  # augmentation draws of this epoch
        shuffle = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        train_loader = DataLoader(
            train_set, batch_size=config.batch_size, shuffle=True, drop_last=True, generator=shuffle, **loader_options
        )
        bar = tqdm(
            total=steps_per_epoch,
            desc=f"epoch {epoch + 1}/{config.epochs}",
            unit="batch",
            disable=not config.progress,
            leave=True,
            dynamic_ncols=True,
        )

        def on_step(value: float, bar: tqdm = bar) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{value:.4f}")

        try:
            loss = train_one_epoch(
                model, train_loader, criterion, optimizer, device, scheduler=scheduler, on_step=on_step
            )
            result = evaluate(model, val_loader, spec.num_classes, device, ignore_index=spec.ignore_index)
            bar.set_postfix(loss=f"{loss:.4f}", val_mIoU=f"{result.mean_iou:.4f}", val_bF=f"{result.boundary_f:.4f}")
        finally:
            bar.close()
        record = {
            "epoch": epoch + 1,
            "loss": loss,
            "val_miou": result.mean_iou,
            "val_boundary_f": result.boundary_f,
            "seconds": time.monotonic() - epoch_started,
        }
        history.append(record)
        keep_if_chosen(epoch + 1, result)
        checkpoint.save_state(
            config.state_path,
            {
                "run_key": run_key,
                "epoch": epoch + 1,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "best_miou": best_miou,
                "best_score": best_score,
                "best_epoch": best_epoch,
                "history": history,
                "temperature": temperature,
            },
        )
        elapsed_min = (time.monotonic() - started) / 60
        if config.time_limit_min is not None and elapsed_min + record["seconds"] / 60 > config.time_limit_min:
            if config.progress:
                tqdm.write(
                    f"stopping after epoch {epoch + 1}: another epoch would pass the "
                    f"{config.time_limit_min:g}-minute limit"
                )
            break
    if facts is None and config.out.is_file():  # resumed run that found nothing better
        facts = load_weights(config.out)[1]
    return TrainResult(config.out, facts, best_miou, best_epoch, history, [float(w) for w in weights])
