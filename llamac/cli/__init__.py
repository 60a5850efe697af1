"""The CLI's rooms: the parser, the run configuration, building tasks and coordinators, running episodes.

``llamac.run`` is the entry point; this package is the only place that knows every coordinator.
"""
