"""The `optimize` command's entry point (and `python -m optimize`).

It imports nothing heavy before it can answer Ctrl-C: the CLI pulls in typer, rich, LibCST
and GitPython, and an interrupt while they load must end in one line, not a traceback.
"""

import sys

from optimize import interrupts


def main() -> None:
    try:
        with interrupts.deferred():  # `optimize.interrupts` says why
            from optimize.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:  # before the CLI's own handler is in place, or after it
        interrupts.handled()
        git = sys.modules.get("optimize.git")
        moved = git.moved_refs() if git is not None else []
        what = f"the commits had landed on {moved[-1]}" if moved else "nothing was changed"
        sys.stderr.write(f"interrupted: {what}\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
