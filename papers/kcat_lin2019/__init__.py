"""KCAT: A Knowledge-Constraint Typing Annotation Tool.

Sheng Lin, Luye Zheng, Bo Chen et al. ACL 2019 System Demonstrations, arXiv:1906.05670. Code:
https://github.com/donnyslin/KCAT (README read at commit 566c09d: setup of an entity-linking API on mulrel-nel and
a tkinter annotator client; no results).

**Idea.** Fine-grained entity typing needs human labels, but annotators cannot hold thousands of types in mind:
KCAT links each mention to a knowledge base to shrink the candidate types, lets annotators revise the link in a
multi-step typing scheme, and adds an annotator client and a manager for crowdsourced labels. The abstract claims
significantly better annotation efficiency, with time growing slowly as the type set grows.

**Why nothing runs here.** The claims come from a user study (annotators timed with and without the tool) and need
the tool's entity-linking service with its Wikipedia data; neither can be had here, and the paper is outside
efficient deep learning. ``claims.yaml`` records each claim as ``not_testable`` with its reason.
"""
