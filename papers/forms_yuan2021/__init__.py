"""FORMS: Fine-grained Polarized ReRAM-based In-situ Computation for Mixed-signal DNN Accelerator.

Geng Yuan, Payman Behnam, Zhengang Li, Ali Shafiee, Sheng Lin, Xiaolong Ma, Hang Liu, Xuehai Qian, Mahdi Nazm
Bojnordi, Yanzhi Wang, Caiwen Ding. ISCA 2021, arXiv:2106.09144. No code.

**Idea.** A ReRAM crossbar stores conductances, which are positive, so signed weights need a second array
(differential) or an offset with a reference column (ISAAC). FORMS trains the network by ADMM so that the weights
of each *fragment* (a few consecutive rows of one column) share one sign, kept as one bit beside the array. The
fragments are read one at a time with small, fast ADCs, and a fragment whose inputs in a bit cycle are all zero is
skipped. Abstract: 1.50x the throughput per area and 1.93x the energy efficiency of ISAAC.

**What is here.** ``bench/compress/polarize.py``: the exact projection onto one sign per fragment and the sign lock
for retraining (new shared code). ``method.py``: the ISAAC and FORMS designs on the suite's array model
(``bench.hardware.imc``) with their unit costs and sources; throughput, area and energy per image. ``experiment.py``:
Caffe's CIFAR-10 ConvNet, the dense arm and polarized arms at fragments of 4, 8 and 16, then both designs on real
test images.

**Deviations and assumptions.**

- The paper's body was not read. A third-party notes file built from it [3rd] gives fragments "of 4 to 16 rows",
  4-bit ADCs, 8-bit weights, 2-bit cells and 16-bit inputs; the exact fragment list, ADC counts and network
  settings are unknown. The suite's choices: fragments of 4, 8 and 16 rows with 8 as the headline [assumption];
  8-bit inputs for both designs [assumption].
- The projection (keep a fragment's larger-norm sign) is derived, exact, and stated in ``bench/compress/polarize.py``;
  whether FORMS also prunes or quantizes by ADMM in the same run was not read: here only the polarization is
  ADMM-trained, and the weights are rounded to 8 bits afterwards (the best scale per layer).
- The designs are the suite's reductions (``method.py``): ISAAC's Table I unit costs through a transcription [3rd],
  FORMS's ADCs from the hwcomponents package's FORMS model [3rd]; layers in sequence with every ADC busy; energy of
  ADC conversions and DAC bits only. A 4-bit ADC cannot resolve an 8-row fragment of 2-bit cells exactly (the
  results give the bits it would need); the suite, like the paper's premise, takes the reads as exact.
- A 10k-image subset (the JPEG q75 re-encoding), the ConvNet instead of ResNet-18/VGG, and pneumonia_li2019's short
  schedule.
"""
