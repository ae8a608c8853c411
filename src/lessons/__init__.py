"""lessons: answer new AI project teams from the experience of Denmark's signature projects."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lessons")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
