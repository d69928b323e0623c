"""`python -m toposcope`: the same as the `toposcope` command."""
import sys

from toposcope.cli import main

if __name__ == "__main__":
    sys.exit(main())
