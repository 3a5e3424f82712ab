"""The shape of every command-line error: one line, ``numnet: error: …``, no traceback."""


def assert_one_line_error(stderr):
    """Assert that ``stderr`` is a single ``numnet: error:`` line and holds no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("numnet: error: ")
    assert "Traceback" not in stderr
