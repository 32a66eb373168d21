"""jieba, loaded once and quietly: Chinese word segmentation for the classifier and the search index.

Pure Python (no Django). jieba logs its dictionary loading at DEBUG on its own handler and, on Python 3.12, its
sources raise SyntaxWarnings when first compiled; neither tells an operator anything.
"""

from __future__ import annotations

import logging
import warnings
from functools import cache
from types import ModuleType


@cache
def jieba() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba as module
        import jieba.finalseg
    module.setLogLevel(logging.WARNING)
    loaded: ModuleType = module
    return loaded
