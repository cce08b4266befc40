"""The normalised token form: names, literals, comments and layout do not matter; the API does."""
from autograder.similarity.normalise import normalise, provided_names, python_source, subtract_release

NAMES = provided_names(["import numpy as np\ndef conv_forward_naive(x, w, b, conv_param):\n    pass\n"])


def symbols(source):
    tokens, problem = normalise(source, NAMES)
    assert problem is None
    return [t.symbol for t in tokens]


def test_renamed_relaid_recommented_code_has_the_same_form():
    original = "def pad(images, p):\n    # zero-pad\n    return np.pad(images, p) + 1.5\n"
    disguised = ("def widen ( arr,amount ) :  # another comment\n"
                 "    return np.pad(arr,\n                  amount) + 7\n")
    assert symbols(original) == symbols(disguised)


def test_api_names_keep_their_text_and_chosen_names_do_not():
    form = symbols("total = np.zeros(x.shape) + len(items)\n")
    assert form[:2] == ["V", "="]
    assert "np" in form and "zeros" in form and "shape" in form and "len" in form
    assert symbols("a = np.zeros(1)\n") != symbols("a = np.ones(1)\n")


def test_docstrings_are_dropped_and_strings_become_one_symbol():
    with_doc = 'def f(a):\n    """Explain at length."""\n    return a + "x"\n'
    without = 'def f(a):\n    return a + "other"\n'
    assert symbols(with_doc) == symbols(without)
    assert "S" in symbols(without)


def test_magics_are_blanked_without_moving_offsets():
    source = "%timeit f()\nvalue = 1\n!ls\n"
    cleaned = python_source(source)
    assert len(cleaned) == len(source) and "timeit" not in cleaned and "ls" not in cleaned
    tokens, _ = normalise(source, NAMES)
    assert source[tokens[0].start:tokens[0].end] == "value"
    assert python_source("%%bash\necho hi\n") is None


def test_code_that_cannot_be_tokenized_keeps_the_part_before_and_says_where():
    tokens, problem = normalise("x = 1\ny = (2,\n", NAMES)
    assert [t.symbol for t in tokens][:4] == ["V", "=", "N", "<end>"]
    assert problem is not None and "line" in problem


def test_release_code_is_subtracted_even_when_renamed_and_own_code_stays():
    release = ("def f(x):\n    if x is None:\n        raise ValueError('no input given')\n"
               "    out = None\n    # YOUR CODE HERE\n    raise NotImplementedError()\n    return out\n")
    student = ("def f(inputs):\n    if inputs is None:\n        raise ValueError('nothing')\n"
               "    out = None\n    out = np.tanh(inputs) * 2 + np.exp(inputs)\n    return out\n")
    given, _ = normalise(release, NAMES)
    mine, _ = normalise(student, NAMES)
    runs = subtract_release(mine, given, min_block=8)
    kept = "".join(student[run[0].start:run[-1].end] for run in runs)
    assert "np.tanh(inputs) * 2 + np.exp(inputs)" in kept
    assert "ValueError" not in kept
    assert subtract_release(given, given, min_block=8) == []
