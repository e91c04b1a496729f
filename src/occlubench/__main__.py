"""``python -m occlubench``."""

from occlubench.cli.app import main

main()
