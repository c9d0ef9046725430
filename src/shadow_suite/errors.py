"""The one exception type users see: a one-line message naming the file, field or model at fault."""


class ShadowSuiteError(Exception):
    """Bad input or configuration. The CLI prints it as one line, without a traceback."""
