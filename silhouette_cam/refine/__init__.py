"""Mask refinement: threshold/softness/invert, fast guided filter, temporal smoothing, people tracking."""

from silhouette_cam.refine.guided import ColorGuidedSolver, FastGuidedUpsampler, guided_coefficients
from silhouette_cam.refine.refiner import RAW_SETTINGS, EdgeRefiner, GridMask, MaskRefiner, RefineSettings
from silhouette_cam.refine.region import PersonRegionTracker, Plan
from silhouette_cam.refine.temporal import TemporalSmoother
from silhouette_cam.refine.threshold import apply_threshold

__all__ = ["RAW_SETTINGS", "ColorGuidedSolver", "EdgeRefiner", "FastGuidedUpsampler", "GridMask", "MaskRefiner",
           "PersonRegionTracker", "Plan", "RefineSettings", "TemporalSmoother", "apply_threshold",
           "guided_coefficients"]
