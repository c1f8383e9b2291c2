"""``python -m newsclean.cli``: the ``newsclean`` command."""

import sys

from newsclean.cli import main

sys.exit(main())
