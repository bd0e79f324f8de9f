"""The one refusal of a bootstrap file."""

from __future__ import annotations


class BootstrapError(Exception):
    """The file was refused; ``problems`` holds one ``file:line: path: message`` per problem."""

    code = "invalid_bootstrap"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
