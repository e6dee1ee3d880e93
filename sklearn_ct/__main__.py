"""``python -m sklearn_ct``: same as the ``sklearn-ct`` command."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
