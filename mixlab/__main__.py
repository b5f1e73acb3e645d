"""``python -m mixlab``: the ``mixlab`` command (what each MPI rank runs under ``mpiexec``)."""

import sys

from mixlab.cli import main

sys.exit(main())
