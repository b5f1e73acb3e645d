"""The words mixlab's options take, defined once.

>>> "self_weighted" in GROUP_RULES and "exchange" in GOSSIP_MODES
True
"""

from __future__ import annotations

#: Update orders: combine-then-adapt and adapt-then-combine.
UPDATE_ORDERS = ("cta", "atc")
#: Group averaging rules (WAGMA-SGD): the reference code's (sum + own)/(S + 1), or the group mean.
GROUP_RULES = ("self_weighted", "mean")
#: WAGMA-SGD's wait-avoiding activation: global (the reference code) or per group.
ACTIVATIONS = ("global", "group")
#: Gossip: the receiver takes the pushed model, or both sides average.
GOSSIP_MODES = ("push", "exchange")
#: Step-size schedules.
LR_SCHEDULES = ("constant", "cosine", "inverse_sqrt", "step")
#: Compute-time distributions of the timing model.
COMPUTE_DISTRIBUTIONS = ("constant", "exponential", "shifted_exponential", "lognormal")
#: Implementations that run kernels and whole runs: compiled CPU, GPU, the NumPy specification.
BACKENDS = ("numba", "cuda", "reference")
#: The implementations of the event loops (version age, gossip learning): no GPU version.
CPU_BACKENDS = ("numba", "reference")
#: Time-varying topologies (a schedule of matrices rather than one graph).
TIME_VARYING_TOPOLOGIES = ("one_peer_exponential",)
#: Version-age models: a separate source (Yates) or a user as the source of its own versions.
AGE_MODELS = ("yates", "user")
