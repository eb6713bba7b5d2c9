"""`python -m monitor` is `dfe-monitor`."""

import sys

from monitor.cli import main

sys.exit(main())
