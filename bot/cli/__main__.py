"""`python -m bot.cli ...`, as the Procfile and the benchmarks start it."""

import sys

from bot.cli import main

sys.exit(main())
