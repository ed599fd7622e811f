"""Training benchmarks: throughput, and the three quality bars of the training issue.

    python bench/bench_train.py throughput [--steps 20] [--batch-size 8] [--device auto]
    python bench/bench_train.py shapes      [--minutes 5]    S-Net from scratch on generated shapes
    python bench/bench_train.py portraits   [--seed 0]       fine-tune selfie-general on shared portraits
    python bench/bench_train.py multiperson [--minutes 5]    20-class overfit on shared multiperson

throughput: images/s of full training steps (forward, loss, backward, AdamW) at 256x256, median and
p90 over --steps timed steps after 3 warm-up steps, per model. The bars print a table of their
numbers; portraits holds back a seeded 20% test split that training never sees (a separate validation
split picks the kept epoch with --keep best; train's defaults otherwise, 20 epochs, last epoch kept)
and scores the shipped and the fine-tuned model on it with the app's PersonSegmenter at the images'
own resolution. Shared data is read from $SILHOUETTE_CAM_DATA or ../shared/data beside the checkout;
nothing is copied into the repository.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests/make_shapes_dataset.py

from silhouette_cam.model import build_model, shipped_weights_path  # noqa: E402
from silhouette_cam.model.snet import build_snet  # noqa: E402
from silhouette_cam.segmenter import resolve_device  # noqa: E402
from silhouette_cam.training.config import BEST_BY_CHOICES, KEEP_CHOICES, TrainConfig  # noqa: E402
from silhouette_cam.training.loops import class_logits  # noqa: E402
from silhouette_cam.training.losses import SegmentationLoss  # noqa: E402
from silhouette_cam.training.trainer import fit  # noqa: E402

SHARED = Path(os.environ.get("SILHOUETTE_CAM_DATA", REPO.parent / "shared" / "data"))


def throughput(args: argparse.Namespace) -> None:
    device = torch.device(resolve_device(args.device)[0])
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = {
        "snet (mnv3-small)": build_snet(num_classes=2),
        "selfie-general": build_model(weights=shipped_weights_path("general"))[0],
    }
    print(f"device: {device}  batch {args.batch_size}  256x256  threads {torch.get_num_threads()}")
    print(f"{'model':20s} {'median img/s':>13s} {'p90 step ms':>12s} {'median step ms':>15s}")
    for name, model in models.items():
        model.to(device).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        criterion = SegmentationLoss()
        image = torch.rand(args.batch_size, 3, 256, 256, device=device)
        target = torch.randint(0, 2, (args.batch_size, 256, 256), device=device)
        times = []
        for step in range(args.steps + 3):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            loss = criterion(class_logits(model(image)), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            if step >= 3:
                times.append(time.perf_counter() - start)
        median, p90 = np.median(times), np.percentile(times, 90)
        print(f"{name:20s} {args.batch_size / median:13.1f} {p90 * 1e3:12.1f} {median * 1e3:15.1f}")


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    for key, value in rows:
        print(f"  {key:32s} {value}")


def run_options(args: argparse.Namespace) -> dict:
    """The TrainConfig fields every benchmark takes from the command line."""
    return {"time_limit_min": args.minutes, "threads": args.threads, "device": args.device,
            "progress": not args.quiet}


def fit_and_report(title: str, score_label: str, config: TrainConfig) -> None:
    """Train with `config` and print the best score, epochs run and wall minutes."""
    started = time.monotonic()
    result = fit(config)
    minutes = (time.monotonic() - started) / 60
    report(title, [
        (score_label, f"{result.best_miou:.4f} (epoch {result.best_epoch})"),
        ("epochs run", str(len(result.history))),
        ("wall minutes", f"{minutes:.1f}"),
    ])


def shapes(args: argparse.Namespace) -> None:
    from tests.make_shapes_dataset import make_shapes_dataset

    with tempfile.TemporaryDirectory() as tmp:
        data = make_shapes_dataset(Path(tmp) / "shapes", count=500, size=96, num_classes=3, seed=0)
        config = TrainConfig(images=data / "images", masks=data / "masks", out=Path(tmp) / "shapes.safetensors",
                             model="snet", size=(96, 96), epochs=args.epochs or 8, batch_size=16,
                             **run_options(args))
        fit_and_report("S-Net from scratch, generated shapes (3 classes, 400 train / 100 val, 96x96)",
                       "best val mIoU", config)


def multiperson(args: argparse.Namespace) -> None:
    data = SHARED / "multiperson"
    with tempfile.TemporaryDirectory() as tmp:
        config = TrainConfig(images=data / "images", masks=data / "masks", out=Path(tmp) / "mp.safetensors",
                             model="snet", classes=20, size=(256, 256), epochs=args.epochs or 600, batch_size=5,
                             val_fraction=0.0, augment=False, flip=False, lr=5e-3, border_weights=False,
                             class_weights="median", **run_options(args))
        fit_and_report("S-Net overfit, multiperson (20 classes, 5 images, train = val)", "best train mIoU", config)


def link_pairs(pairs: list, folder: Path) -> Path:
    """`folder/images` and `folder/masks` of symlinks to `pairs`, so `silhouette-cam eval` scores exactly them."""
    for sub, index in (("images", 0), ("masks", 1)):
        (folder / sub).mkdir(parents=True)
        for pair in pairs:
            (folder / sub / pair[index].name).symlink_to(pair[index])
    return folder


def portraits(args: argparse.Namespace) -> None:
    from silhouette_cam.segmenter import PersonSegmenter
    from silhouette_cam.training.dataset import find_pairs, split_pairs
    from silhouette_cam.training.scoring import score_folder

    data = SHARED / "portraits"
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / "portraits.safetensors"
    with tempfile.TemporaryDirectory() as tmp:
        # Three splits: 20 % test (reported, never seen by training), and of the rest 1/6 validation
        # (picks the kept epoch) and 5/6 training: 199 / 40 / 60 of the 299 portraits.
        rest, test = split_pairs(find_pairs(data / "images", data / "masks"), 0.2, 1000 + args.seed)
        rest_dir, test_dir = link_pairs(rest, Path(tmp) / "rest"), link_pairs(test, Path(tmp) / "test")
        config = TrainConfig(
            images=rest_dir / "images",
            masks=rest_dir / "masks",
            out=out,
            model="selfie-general",
            val_fraction=1 / 6,
            seed=args.seed,
            epochs=args.epochs or TrainConfig.epochs,  # train's default: what `silhouette-cam train` runs
            lr=args.lr,
            **run_options(args),
            dice_weight=args.dice,  # None: the fine-tuning default (plain cross-entropy + 1 x Dice)
            augment=not args.no_augment,
            freeze_encoder=args.freeze_encoder,
            keep=args.keep,  # None: train's default (the last epoch when fine-tuning)
            best_by=args.best_by,
        )
        before = score_folder(PersonSegmenter(model="general", device="cpu"), test_dir / "images", test_dir / "masks")
        started = time.monotonic()
        result = fit(config)
        minutes = (time.monotonic() - started) / 60
        after = score_folder(PersonSegmenter(weights=out, device="cpu"), test_dir / "images", test_dir / "masks")
    report(
        f"fine-tune selfie-general on portraits (seed {args.seed}: {len(rest)} train+val, {len(test)} test, "
        "scored at 240x320)",
        [
            ("shipped: mean IoU / boundary F", f"{before.mean_iou:.4f} / {before.boundary_f:.4f}"),
            ("fine-tuned: mean IoU / boundary F", f"{after.mean_iou:.4f} / {after.boundary_f:.4f}"),
            (f"kept epoch ({config.keep}) / epochs run", f"{result.best_epoch} / {len(result.history) - 1}"),
            ("loss temperature", f"{result.facts.extra['training']['loss_temperature']:.1f}" if result.facts else "-"),
            ("training wall minutes", f"{minutes:.1f}"),
            ("weights", str(out)),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("throughput", "shapes", "portraits", "multiperson"))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--minutes", type=float, help="training time limit")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--out", help="portraits: keep the fine-tuned weights here")
    parser.add_argument("--threads", type=int, help="torch CPU threads for training (1 is fastest on a busy CPU)")
    parser.add_argument("--no-augment", action="store_true", help="portraits: no random transforms")
    parser.add_argument("--freeze-encoder", action="store_true", help="portraits: train the decoder only")
    parser.add_argument("--seed", type=int, default=0, help="portraits: split and training seed")
    parser.add_argument("--dice", type=float, help="portraits: soft Dice loss weight (default: train's, 1)")
    parser.add_argument("--keep", choices=KEEP_CHOICES, help="portraits: kept epoch (default: train's, last)")
    parser.add_argument("--best-by", choices=BEST_BY_CHOICES, default="miou",
                        help="portraits: the score that picks the epoch with --keep best")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    {"throughput": throughput, "shapes": shapes, "portraits": portraits, "multiperson": multiperson}[args.what](args)


if __name__ == "__main__":
    main()
