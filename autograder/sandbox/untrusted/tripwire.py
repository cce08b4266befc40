"""The barebones tripwire: constructing a framework's layer classes raises while a barebones item is graded.

The grader's worker installs it for the whole of a barebones item's process (after the instructor's setup cell,
before the student's cells) and never removes it; the notebook's self-check installs the same tripwire around
each public case of such an item and removes it afterwards, so ``check()`` gives the grader's error word for word.
Imports only the standard library: `make source` ships a copy with the self-check.
"""
import importlib


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
