"""``python -m isoclr_hf.cli COMMAND ...``: what ``accelerate launch -m isoclr_hf.cli embed ...`` runs."""

import sys

from . import main

sys.exit(main())
