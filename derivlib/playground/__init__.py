"""The application built on the engine: the answer checker (:mod:`.answer`), the in-page
playground's request layer (:mod:`.requests`) and the gallery of networks (:mod:`.gallery`).

Pure Python, like :mod:`derivlib.engine`, which it depends on and which never imports it.
"""
