"""Expected failures: each says what is wrong, names the file or item, and what to do."""


class EngineError(Exception):
    """A failure the user can act on; the engine prints it as an `error` event and exits 2."""

    exit_code = 2
