"""``python -m tfx_addons_lab`` runs the CLI."""

import sys

from tfx_addons_lab.cli import main

sys.exit(main())
