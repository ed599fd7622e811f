"""silhouette_cam: real-time person segmentation for webcams and videos."""

__version__ = "0.1.0"
