"""Development tools, beside the service and not part of it: the crisis detector's training
and evaluation (``python -m tools.train``, ``python -m tools.evaluate``) and the pictures of
the documentation (``python -m tools.screenshots``, ``tools.screenshots_oncall``,
``tools.simulator_screenshots``).

Run them from a checkout, with the development install (``make .venv/.installed-dev``):
they are not in the ``screening-bot`` package nor in the Docker image, and they import
``bot``, never the other way round.
"""
