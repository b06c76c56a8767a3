"""Learning Dynamic Context Augmentation for Global Entity Linking (DCA).

Xiyuan Yang, Xiaotao Gu, Sheng Lin et al. EMNLP-IJCNLP 2019, arXiv:1909.02117. Code:
https://github.com/YoungXiyuan/DCA (PyTorch 0.3; README read at commit 77f539b).

**Idea.** Collective entity linking in one pass over a document's mentions: each linking decision adds the chosen
entity to a dynamic context that later mentions attend to, instead of a global search over all mentions jointly;
learned with supervised or reinforcement learning, on top of different local linking models. The README reports
94.64% in-KB accuracy on AIDA-B and 94.57% / 90.14% F1 on MSNBC / ACE2004.

**Why nothing runs here.** The paper is outside efficient deep learning, and every claim needs the entity-linking
corpora (AIDA-CoNLL, MSNBC, ACE2004), Wikipedia candidate data and the pretrained embeddings the repository
downloads; none can be had offline. ``claims.yaml`` records each claim as ``not_testable`` with its reason.
"""
