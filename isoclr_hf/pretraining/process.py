"""The pretraining process's life: one run per output folder, and no trainer outliving its launcher.

* :class:`OutputLock` -- an exclusive ``fcntl.flock`` on ``OUTPUT_DIR/.lock`` held by the main process
  for the whole run, so two runs cannot write checkpoints and metrics into one folder. The kernel
  drops the lock when the process ends, however it ends; the file keeps the holder's pid for the
  error message of a second run.
* :func:`exit_with_launcher` -- ``accelerate launch`` (one process: ``subprocess.Popen``; several:
  torchrun's agent) does not pass SIGKILL on to the trainer, and a launcher stopped by SIGTERM,
  SIGHUP or SIGINT while it waits for the trainer exits without stopping it either. The trainer
  therefore watches its parent: on Linux ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` has the kernel send it
  SIGTERM when the launcher dies, and a daemon thread that polls ``os.getppid()`` does the same
  elsewhere (and sends SIGKILL if SIGTERM has not ended the process after a grace period).
* :func:`exit_promptly_on_error` -- in a run of several processes, a process that fails (a bad input
  that only its share of the corpus holds, say) prints its error and is sure to end: the other
  processes may be waiting for it in a collective, and the launcher (torchrun's agent) stops them
  only once it has ended. Without it, anything that keeps the failed process alive (a non-daemon
  thread, an exit handler waiting on the process group) leaves every process waiting.
"""


from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Set in the trainer's environment by the launchers whose trainers should stop with them.
LAUNCHER_VARIABLES = ("TORCHELASTIC_RUN_ID", "ACCELERATE_MIXED_PRECISION")  # torchrun; accelerate launch (always)


class OutputFolderLockedError(RuntimeError):
    """Another run holds the output folder's lock."""


class OutputLock:
    """Exclusive lock on ``output_dir/.lock`` (``fcntl.flock``), held until :meth:`release` or exit.

    Without ``fcntl`` (Windows) the lock is a no-op.
    """

    def __init__(self, output_dir: str | Path) -> None:
        self.output_dir = Path(output_dir)
        self.path = self.output_dir / ".lock"
        self.handle: int | None = None

    def acquire(self) -> OutputLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        self.output_dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(handle)
            raise OutputFolderLockedError(
                f"Output folder {self.output_dir} is in use by another pretraining run (pid {holder}, lock "
                f"{self.path}); wait for it to end, stop it, or pass another --output_dir."
            ) from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
        self.handle = handle
        return self

    def release(self) -> None:
        if self.handle is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self.handle, 0)
        with contextlib.suppress(ImportError, OSError):
            import fcntl

            # Unlock before closing: forked children (DataLoader workers) share the lock until they exit.
            fcntl.flock(self.handle, fcntl.LOCK_UN)
        os.close(self.handle)
        self.handle = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


def launched_by_a_launcher() -> bool:
    """Whether ``accelerate launch`` or torchrun started this process (not a shell or a notebook)."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def exit_with_launcher(poll_seconds: float = 1.0, grace_seconds: float = 15.0) -> bool:
    """Stop this process when its parent (the launcher) dies; returns whether the watch was set."""
    parent = os.getppid()
    if parent <= 1:  # already orphaned (or started by init): nothing to watch
        return False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the launcher died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        print(f"Launcher (pid {parent}) is gone: stopping the trainer (pid {os.getpid()}).", file=sys.stderr,
              flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_seconds)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="exit-with-launcher", daemon=True).start()
    return True


@contextlib.contextmanager
def exit_promptly_on_error(rank: int, world_size: int, grace_seconds: float = 20.0) -> Iterator[None]:
    """On an exception in a run of ``world_size > 1`` processes: print it naming ``rank``, re-raise it, and
    end the process with ``os._exit(1)`` if it is still alive ``grace_seconds`` later.

    A single process is left alone (an exception propagates as usual, e.g. to a test that called it).
    """
    try:
        yield
    except BaseException as error:
        if world_size > 1 and not isinstance(error, SystemExit):
            print(f"process {rank}/{world_size} failed: {type(error).__name__}: {error}; the launcher stops the "
                  "other processes once this one has ended", file=sys.stderr, flush=True)

            def end() -> None:
                time.sleep(grace_seconds)
                print(f"process {rank}/{world_size} is still alive {grace_seconds:.0f} s after its error: ending it",
                      file=sys.stderr, flush=True)
                os._exit(1)

            threading.Thread(target=end, name="exit-promptly-on-error", daemon=True).start()
        raise


__all__ = [
    "OutputFolderLockedError",
    "OutputLock",
    "exit_promptly_on_error",
    "exit_with_launcher",
    "launched_by_a_launcher",
]
