"""Generative Poisoning Attack Method Against Neural Networks.

Chaofei Yang, Qing Wu, Hai Li, Yiran Chen. arXiv:1703.01340 (2017). Code: https://github.com/yangcf10/Poisoning-attack
(MXNet, Python 2; ``mnist_direct.py``, ``mnist_generative.py``; read at commit 4ca96be, not copied).

**Idea.** A poisoning attacker crafts training samples that, once the model learns from them, raise its loss on
clean data. The direct gradient method estimates how the clean loss responds to each input dimension of a poison
through the model's update (finite differences, one model update per pixel); the generative method trains an
auto-encoder to produce poisons, with the target model as its discriminator, and generates poisons up to 239.38x
faster with slightly lower accuracy degradation. A countermeasure detects poisoning by checking the target model's
loss.

**What is here.** ``method.py`` holds the target MLP and generator of the scripts, both attacks as the scripts
run them (with the 784 per-pixel updates of a direct round batched by ``torch.func.vmap``) and the detector;
``experiment.py`` pretrains both networks on MNIST, makes 20 poisons by each method, and measures the rates, the
degradations and the detector's AUC.

**Deviations and assumptions.**

- The attack setting is the scripts': the model takes one SGD step on a poison (lr 0.05, biases 0.1) and the
  attacker raises the summed loss of 10 clean training samples; the degradation is the test accuracy lost by
  that step, averaged over 20 poisons (the scripts make one). The paper's poisoning rate and retraining protocol
  were not reachable.
- Poison labels are ``(label + 1) mod 10``; the scripts use ``label + 1``, which for a 9 gives an invalid class 10.
- The direct method's finite differences compare each nudged pixel's clean loss with the current poison's; the
  MNIST script compares with the loss of the initial poison throughout.
- The generator is pretrained here to reconstruct MNIST (900 Adam steps); the scripts load a pretrained one whose
  training is not published. Its pretraining is not counted in the generation rate, as in the scripts' timers; the
  rate with it is reported beside.
- Both methods run batched on the CPU; the scripts' per-pixel loop on a GPU would make the direct method slower
  still, so the speed ratio here is the methods', not the scripts'.
- The detector's rule was not reachable: a sample's score is the rise of the model's mean loss on held-out clean
  data after a one-step update on it (the per-input loss AUC is reported as context).
- CIFAR-10 (the scripts' second setting) is not run.
"""
