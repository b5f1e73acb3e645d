"""Gossip and version age: the exact subset recursion (:mod:`~mixlab.kernels.gossip.exact`),
the version-age Monte Carlo (:mod:`~mixlab.kernels.gossip.monte_carlo`) and
asynchronous gossip learning (:mod:`~mixlab.kernels.gossip.learning`)."""
