"""The ``isoclr`` command: one entry point, one module per subcommand.

Each subcommand module in this package defines ``add_arguments(parser)`` and ``run(args) -> int``
and a module docstring whose first line is the subcommand's help.

Errors: a problem with the input (a missing or broken model folder, a bad record, an existing
``--out``) is printed as one line, ``isoclr COMMAND: error: MESSAGE``, naming the file or folder,
and the exit code is 2, as for a bad command line; ``--debug`` prints the traceback too.
``transformers`` and ``huggingface_hub`` progress bars and load reports are silenced; the
subcommands show their own progress.

Start-up: ``isoclr --help`` imports no subcommand and ``isoclr COMMAND ...`` only COMMAND's module, whose
top level imports no torch, transformers or datasets (they are imported where work starts), so help,
bad command lines and an existing ``--out`` are answered in well under a second
(benchmarks/cli_startup.py).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

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


# Error types of modules that may not be imported yet: (module, class name). An error of one of these
# types can only exist once its module is imported, so they are looked up only in sys.modules.
_LAZY_ERROR_TYPES = (
    ("huggingface_hub.errors", "HfHubHTTPError"),
    ("isoclr_hf.annotations.errors", "AnnotationError"),
    ("isoclr_hf.loading", "ModelLoadingError"),
)


def is_input_error(error: BaseException) -> bool:
    """Whether a subcommand's error is bad input (printed in one line) rather than a bug (a traceback).

    Looks the package's own error types up without importing them: ``isoclr`` imports torch and
    transformers only where work starts.
    """
    if isinstance(error, (ValueError, OSError)):
        return True
    for module_name, class_name in _LAZY_ERROR_TYPES:
        module = sys.modules.get(module_name)
        error_type = getattr(module, class_name, None) if module is not None else None
        if isinstance(error_type, type) and isinstance(error, error_type):
            return True
    return False


def subcommand_summary(name: str) -> str:
    """The first line of a subcommand module's docstring, read from its source without importing it."""
    spec = importlib.util.find_spec(f"{__name__}.{SUBCOMMANDS[name]}")
    source = Path(spec.origin).read_text(encoding="utf-8") if spec is not None and spec.origin else ""
    docstring = ast.get_docstring(ast.parse(source)) if source else None
    return (docstring or name).strip().splitlines()[0]


def chosen_subcommand(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is one), or None."""
    return next((word for word in argv if word in SUBCOMMANDS), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``isoclr`` parser; only the subcommand named in ``argv`` is imported (all of them when ``argv`` is None).

    The other subcommands appear in ``isoclr --help`` with the first line of their docstring, read from
    the source: ``isoclr --help`` imports no subcommand, ``isoclr embed --help`` only ``embed``.
    """
    parser = argparse.ArgumentParser(
        prog="isoclr",
        description="IsoCLR RNA foundation models.",
        epilog=f"Errors print one line naming the file and the problem and exit with code {ERROR_EXIT_CODE}; "
               "--debug also prints the traceback.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("--debug", action="store_true", help="On an error, print the traceback too.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None if argv is None else chosen_subcommand(argv)
    for name, module_name in SUBCOMMANDS.items():
        if argv is not None and name != chosen:
            commands.add_parser(name, help=subcommand_summary(name))
            continue
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
    """Silence transformers' and huggingface_hub's progress bars and load reports; restore them after.

    Libraries not imported yet are silenced through their environment variables (read when they are
    imported), so entering this imports neither.
    """
    if "transformers" not in sys.modules:
        with _quiet_environment():
            yield
        return
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


# Read by transformers and huggingface_hub when they are imported.
_QUIET_ENVIRONMENT = {"TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


@contextlib.contextmanager
def _quiet_environment() -> Iterator[None]:
    """Quiet transformers/huggingface_hub through the environment; undo it after, also in libraries loaded meanwhile."""
    saved = {name: os.environ.get(name) for name in _QUIET_ENVIRONMENT}
    os.environ.update(_QUIET_ENVIRONMENT)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if "transformers" in sys.modules:  # loaded during the run with the quiet settings: give back the defaults
            import huggingface_hub.utils as hub_utils
            from transformers.utils import logging as transformers_logging

            transformers_logging.set_verbosity(transformers_logging._get_default_logging_level())
            if saved["HF_HUB_DISABLE_PROGRESS_BARS"] is None:
                # huggingface_hub read the variable when it was imported (set then) and warns that it cannot
                # enable the bars against it (transformers' enable_progress_bar calls it too): nothing to tell
                # a user at the end of a command.
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="Cannot enable progress bars", category=UserWarning)
                    transformers_logging.enable_progress_bar()
                    hub_utils.enable_progress_bars()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``isoclr COMMAND ...``; returns the process exit code (0, or 2 after an error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        with quiet_libraries():
            return int(args.run(args) or 0)
    except Exception as error:
        if not is_input_error(error):
            raise
        if args.debug:
            traceback.print_exc()
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"isoclr {args.command}: error: {message}", file=sys.stderr)
        return ERROR_EXIT_CODE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
