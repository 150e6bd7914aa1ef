"""``python -m fmlc``: the fmlc command line."""

import sys

from fmlc.compiler.cli import main

sys.exit(main())
