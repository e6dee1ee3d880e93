"""``python -m sklearn_ct``: same as the ``sklearn-ct`` command."""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
