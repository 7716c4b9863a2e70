"""In-repo verticals. Each subpackage exposes ``VERTICAL``, a :class:`core_training.contract.Vertical`."""
