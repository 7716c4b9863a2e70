"""vkit core: post-train a Mixture-of-Experts base into a domain advisor (CPT, SFT, RLVR, RM, RLHF, DPO).

The core imports no vertical and no app. See ``core_training.contract`` for the plugin contract.
"""

__version__ = "0.1.0"
