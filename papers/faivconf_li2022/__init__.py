"""FAIVConf: Face Enhancement for AI-Based Video Conference with Low Bit-Rate.

Zhengang Li, Sheng Lin, Shan Liu et al. arXiv:2207.04090 (2022). No public code found; the group's 512-px
First-Order-Motion checkpoint sits in ``CoCoPIE-Pruning/CoCoPIE-ModelZoo/Image-Animation``, a weights file the
suite does not use.

**Idea.** Video conferencing by neural face animation: transmit a source frame and keypoints, regenerate the
face at the receiver; face swapping avoids background artefacts, facial blurring lowers the bit-rate while keeping
landmarks usable, dynamic source updates cover large head poses. The abstract claims a significant bit-rate
reduction and better quality than H.264/H.265 at equal bit-rate, with no figure.

**Why nothing runs here.** Every claim needs talking-head video, H.264 and H.265 encoders at matched settings and
a pretrained face generator; none is in the suite's data or dependencies, and a generator trained from scratch on
the suite's datasets would not be the paper's system. ``claims.yaml`` records each abstract claim as
``not_testable`` with its reason.
"""
