"""Running untrusted student code: the parent side of the trust boundary.

``launch`` starts one worker process with limits and, where the machine allows, in its own namespaces and a
minimal root file system; ``files`` writes what a worker needs and reads back (distrustfully) what it wrote.
Everything that runs inside the jail lives in ``untrusted/`` and imports only the standard library and NumPy.
"""
from .launch import (IsolationUnavailable, WorkerLimits, WorkerRun, choose_isolation, namespaces_available,
                     run_worker)

__all__ = ["IsolationUnavailable", "WorkerLimits", "WorkerRun", "choose_isolation", "namespaces_available",
           "run_worker"]
