"""The ``isoclr`` command: one entry point, one module per subcommand.

Each subcommand module in this package defines ``add_arguments(parser)`` and ``run(args) -> int``
and a module docstring whose first line is the subcommand's help.

Errors: a problem with the input (a missing or broken model folder, a bad record, an existing
``--out``) is printed as one line, ``isoclr COMMAND: error: MESSAGE``, naming the file or folder,
and the exit code is 2, as for a bad command line; ``--debug`` prints the traceback too.
``transformers`` and ``huggingface_hub`` progress bars and load reports are silenced; the
subcommands show their own progress.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import traceback
from collections.abc import Iterator, Sequence

SUBCOMMANDS = {
    "build-corpus": "build_corpus",
    "convert": "convert",
    "convert-orthrus": "convert_orthrus",
    "embed": "embed",
    "evaluate": "evaluate",
    "push": "push",
}

# Exit code of a run stopped by an error in its input (argparse uses the same for a bad command line).
ERROR_EXIT_CODE = 2


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Help that shows the options' defaults and keeps the descriptions' own line breaks.

    Required options, flags (default off) and options without a default show none.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        default = action.default
        if action.required or default is None or default is False or default == [] or default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def package_version() -> str:
    """The installed version of ``isoclr-hf``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("isoclr-hf")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
        return "unknown"


def _error_types() -> tuple[type[BaseException], ...]:
    """What a subcommand raises for bad input: printed in one line instead of a traceback."""
    from huggingface_hub.errors import HfHubHTTPError

    from ..annotations.errors import AnnotationError
    from ..loading import ModelLoadingError

    return (ValueError, OSError, AnnotationError, ModelLoadingError, HfHubHTTPError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isoclr",
        description="IsoCLR RNA foundation models.",
        epilog=f"Errors print one line naming the file and the problem and exit with code {ERROR_EXIT_CODE}; "
               "--debug also prints the traceback.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("--debug", action="store_true", help="On an error, print the traceback too.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        summary = (module.__doc__ or name).strip().splitlines()[0]
        sub = commands.add_parser(name, help=summary, description=module.__doc__, formatter_class=HelpFormatter)
        module.add_arguments(sub)
        # Also accepted after the subcommand; SUPPRESS keeps `isoclr --debug COMMAND` from being reset.
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help="On an error, print the traceback too (default: off).")
        sub.set_defaults(run=module.run)
    return parser


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silence transformers' and huggingface_hub's progress bars and load reports; restore them after."""
    import huggingface_hub.utils as hub_utils
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    transformers_bars = transformers_logging.is_progress_bar_enabled()
    hub_bars_disabled = hub_utils.are_progress_bars_disabled()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    hub_utils.disable_progress_bars()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)
        if transformers_bars:
            transformers_logging.enable_progress_bar()
        if not hub_bars_disabled:
            hub_utils.enable_progress_bars()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``isoclr COMMAND ...``; returns the process exit code (0, or 2 after an error)."""
    args = build_parser().parse_args(argv)
    try:
        with quiet_libraries():
            return int(args.run(args) or 0)
    except _error_types() as error:
        if args.debug:
            traceback.print_exc()
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"isoclr {args.command}: error: {message}", file=sys.stderr)
        return ERROR_EXIT_CODE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
