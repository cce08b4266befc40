"""The code that runs inside the jail, and nothing else: the worker, its operation interpreter and the
job/status protocol it shares with the parent. Standard library and NumPy only (a test enforces it); the parent
copies these files into the worker's directory and runs ``worker.py`` there as a script."""
