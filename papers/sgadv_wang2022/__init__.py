"""Similarity-based Gray-box Adversarial Attack Against Deep Face Recognition (SGADV).

Hanrui Wang, Shuo Wang, Zhe Jin et al. arXiv:2201.04011 (January 2022).
Code: https://github.com/azrealwang/SGADV (a modified Foolbox; read at commit ba7306f, not copied).

**Idea.** Adversarial impersonation of a face-verification system. Attacks that stop as soon as the adversarial
face matches the attacked template (the C-BCE loss, flat past the threshold) fail in the gray-box setting, where
the system compares against other enrolment images of the identity. SGADV's objective keeps maximising the
similarity score (``s − 1``), pushing the embedding deep into the identity's region, so it also matches templates
the attacker never saw. The README reports 100% white-box and 98.74% / 93.23% gray-box success on FaceNet /
InsightFace.

**What is here.** ``attack.py``: L∞ PGD with a random start, SGADV's and C-BCE's losses, SGADV's convergence
rule and the EER threshold; a test checks the PGD against ``torchattacks.PGD`` on the standard cross-entropy loss.
``experiment.py``: a Fashion-MNIST verifier, its EER threshold, and both attacks on impostor pairs.

**Deviations and assumptions.**

- FaceNet, InsightFace, LFW and CelebA-HQ cannot be had here: the verifier is a small CNN's 128-d embedding
  (trained with a classification head for 600 steps) on Fashion-MNIST, whose ten classes stand for identities.
  Ten identities of many images each make gray-box matching easier than among thousands of faces.
- The attack's settings are SGADV.py's: ε = 0.03, step 0.001, at most 1000 steps, convergence threshold 1e-4 per
  sample, batches of 20, a uniform random start (Foolbox's ``LinfPGD`` default).
- Gray-box success counts (adversarial image, other image of the target identity) pairs above the threshold,
  with 10 such images per pair, as the code's ``FMR(advs, renew)``; only pairs rejected before the attack are
  attacked.
- The EER threshold is found by sweeping the observed scores instead of the code's ROC interpolation.
"""
