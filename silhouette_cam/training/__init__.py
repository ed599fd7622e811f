"""Training and evaluation on image/mask folders: datasets + paired transforms, weight maps, losses,
loops, and `fit` (the `silhouette-cam train` run)."""
