"""Start silhouette_cam: `python main.py [options]` is the same as `silhouette-cam [options]`."""

import sys

from silhouette_cam.cli import main

if __name__ == "__main__":
    sys.exit(main())
