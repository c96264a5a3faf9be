import sys

from dofcore.cli import main

sys.exit(main())
