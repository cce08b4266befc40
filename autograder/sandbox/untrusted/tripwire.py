"""The tripwires of the naive and barebones items, and their error messages.

- Barebones items (frameworks): constructing a framework's layer classes raises (``forbid_classes``). The
  grader's worker installs it for the whole of the item's process (after the instructor's setup cell, before the
  student's cells) and never removes it.
- Naive items (NumPy layers): every name of the provided fast layers raises. The grader ships those modules to
  the item's worker as stand-ins (``sandbox.files.tripwire_module``, with ``module_disabled_message``); in the
  student's kernel ``disable_modules`` replaces their functions wherever the kernel holds them.

The notebook's self-check installs the same tripwires around each public case of such an item and removes them
afterwards, so ``check()`` gives the grader's error word for word. Imports only the standard library: `make
source` ships a copy with the self-check.
"""
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys


def import_dotted(dotted):
    """The object at a dotted path (``torch.nn.Module``): the longest importable module, then its attributes.

    Raises ImportError when no prefix of ``dotted`` is an importable module.
    """
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise ImportError("cannot import " + dotted)


def disabled_message(dotted, item):
    """The error a barebones item gets for constructing the class at ``dotted``."""
    return ("%s (and its subclasses) is disabled while %s is graded: the barebones functions must use the "
            "framework's raw operations, not its layers" % (dotted, item))


def forbid_classes(paths, item):
    """Make constructing any class at ``paths`` (or a subclass that calls its ``__init__``) raise RuntimeError.

    Inputs: paths, dotted class paths (``("torch.nn.Module",)``); item, the graded item, named in the error.
    Returns a function that puts the classes' own constructors back. Every path is resolved before any class is
    changed, so a path that cannot be imported (ImportError) leaves every class as it was.
    """
    classes = [(dotted, import_dotted(dotted)) for dotted in paths]
    saved = [(cls, cls.__dict__.get("__init__")) for _, cls in classes]
    for dotted, cls in classes:
        def disabled(self, *args, _dotted=dotted, **kwargs):
            raise RuntimeError(disabled_message(_dotted, item))

        cls.__init__ = disabled

    def restore():
        for cls, original in reversed(saved):
            if original is None:
                del cls.__init__  # the class had inherited its constructor: inherit it again
            else:
                cls.__init__ = original

    return restore


def module_disabled_message(dotted_module, name):
    """The error a naive item gets for calling ``name`` of the provided module ``dotted_module``."""
    return ("%s.%s is disabled while the naive layers are graded: a naive implementation must compute its result "
            "with its own loops, not call the provided fast layers or im2col" % (dotted_module, name))


def _stub(dotted_module, name):
    def disabled(*args, **kwargs):
        raise RuntimeError(module_disabled_message(dotted_module, name))
    disabled.__name__ = name
    return disabled


class _StandIns(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the disabled modules first: an import (or a reload) of one of them gives its stand-in, whose every
    attribute is a stub, as the grader's stand-in file does."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        return importlib.machinery.ModuleSpec(fullname, self) if fullname in self.names else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        dotted = module.__name__
        for name in [n for n in vars(module) if not n.startswith("__")]:
            delattr(module, name)  # a reload runs into the module it reloads
        module.__getattr__ = lambda name: _stub(dotted, name)


def disable_modules(dotted_modules, namespace):
    """Make the provided ``dotted_modules`` (``["convkit.fast_layers", "convkit.im2col"]``) raise on every use, as
    the grader's stand-in modules do: an import or reload of one gives a stand-in whose every attribute raises, and
    each of their functions and classes already held in ``namespace`` (the notebook's globals: ``from convkit
    import *``) or in the globals of a module of the same package (a provided helper calling them) is replaced by
    a stub raising the grader's message.

    Returns a function that puts everything back; modules of the package first imported meanwhile are forgotten
    (their next import is fresh), so nothing outlives the case.
    """
    finder = _StandIns(dotted_modules)
    packages = {dotted.split(".")[0] for dotted in dotted_modules}
    before = {name: module for name, module in sys.modules.items() if name.split(".")[0] in packages}
    real = {dotted: before[dotted] for dotted in dotted_modules if dotted in before}
    where = {}  # id of a function or class defined in a disabled module -> (that module, its name there)
    for dotted, module in real.items():
        for name, value in vars(module).items():
            if callable(value) and getattr(value, "__module__", None) in finder.names:
                where.setdefault(id(value), (value.__module__, name))
    stand_ins = {}
    for dotted in dotted_modules:
        stand_in = importlib.util.module_from_spec(finder.find_spec(dotted))
        finder.exec_module(stand_in)
        stand_ins[dotted] = stand_in
    saved = []  # (a dict, key, the value it held or _ABSENT, its replacement)
    for dotted, stand_in in stand_ins.items():
        saved.append((sys.modules, dotted, sys.modules.get(dotted, _ABSENT), stand_in))
        parent, _, leaf = dotted.rpartition(".")
        if parent in sys.modules:
            saved.append((vars(sys.modules[parent]), leaf, vars(sys.modules[parent]).get(leaf, _ABSENT), stand_in))
    holders = [namespace] + [vars(m) for name, m in before.items() if m is not None and name not in real]
    by_module = {id(module): stand_ins[dotted] for dotted, module in real.items()}
    for holder in holders:
        for name, value in list(holder.items()):
            if name.startswith("__"):
                continue
            if id(value) in where:
                saved.append((holder, name, value, _stub(*where[id(value)])))
            elif id(value) in by_module:
                saved.append((holder, name, value, by_module[id(value)]))
    for holder, name, _, replacement in saved:
        holder[name] = replacement
    sys.meta_path.insert(0, finder)

    def restore():
        sys.meta_path.remove(finder)
        for holder, name, value, _ in reversed(saved):
            if value is _ABSENT:
                holder.pop(name, None)
            else:
                holder[name] = value
        for name in [n for n in sys.modules if n.split(".")[0] in packages and n not in before]:
            del sys.modules[name]

    return restore


_ABSENT = object()
