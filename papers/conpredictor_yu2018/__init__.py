"""ConPredictor: Concurrency Defect Prediction in Real-World Applications.

Tingting Yu, Wei Wen, Xue Han, Jane Huffman Hayes. IEEE Transactions on Software Engineering, 2018
(doi 10.1109/TSE.2018.2791521; arXiv 1804.03589 per the seed listing). No public code found.

**Idea.** Defect prediction for concurrent programs: static code metrics built on the properties of concurrent
code, plus dynamic metrics from mutation analysis, fed to a defect predictor; evaluated on four large open-source
projects within and across projects.

**Why nothing runs here.** The paper is outside efficient deep learning, and every claim needs data and tools the
suite does not have: the projects' labelled concurrency bug histories and a Java static-analysis and
mutation-testing toolchain. No honest proxy exists: a synthetic defect dataset would test a classifier, not the
paper's metrics. ``claims.yaml`` records each abstract claim as ``not_testable`` with its reason, so the paper
appears in the index and its report with nothing claimed as measured.
"""
