"""TernGrad: Ternary Gradients to Reduce Communication in Distributed Deep Learning.

Wei Wen, Cong Xu, Feng Yan, Chunpeng Wu, Yandan Wang, Yiran Chen, Hai Li. NeurIPS 2017. arXiv:1705.07878.
Code: https://github.com/wenwei202/terngrad (TensorFlow 1.x; ``terngrad/inception/bingrad_common.py`` and
``inception_train.py``).

**Idea.** In synchronous data-parallel SGD, workers exchange gradients every step. TernGrad sends each gradient
tensor as one float scaler s and a ternary vector in {-1, 0, +1}: g̃ = s·sign(g)∘b with b_k ~ Bernoulli(|g_k|/s),
an unbiased estimate of g (when |g_k| ≤ s) at 2 bits per element instead of 32.

**What is here** (following ``bingrad_common.py``, ``inception_train.py`` and the ``run_*.sh`` scripts):

- ``method.py``: the layer-wise scaler s = c·σ with σ the tensor's standard deviation (population form, as
  in the repo) when the clip factor c > 1e-5, else s = max|g|; c = 2.5 by default. Clipping is folded into
  the scaler: the repo draws r ~ U(0, s) and keeps sign(g)·s where r < |g|, so an element with |g| > s always
  becomes ±s and one with |g| ≤ s becomes ±s with probability |g|/s. The 2-bit codec: 0/1/2 for -1/0/+1,
  four values per byte. The repo packs four contiguous quarters of the tensor into the four bit pairs of each
  byte and always appends 1-4 padding values; here value i goes to bit pair i mod 4 of byte i // 4 and only
  the last byte is padded (the same ceil(n/4) bytes, exact round trip).
- ``distributed.py``: the gradient exchange between real worker processes over ``torch.distributed`` (gloo
  on CPU, nccl on GPUs): scalers all-reduced with MAX (scaler sharing, before ternarizing, so every worker's
  values share one level), packed payloads all-gathered and their sum decoded, float tensors (the fp32
  baseline, or a layer left unquantized) all-reduced; bytes sent counted from the tensors each worker hands
  to the collectives; a launcher (``forkserver`` processes) that fails with a clear message when a worker
  raises, dies or outlives its time limit.
- ``experiment.py``: LeNet/MNIST (fp32 against TernGrad at N = 2, 4, 8 workers, more at full scale; the
  ablations without clipping and with one model-wide scaler at N = 2; bytes per step) and CifarNet/CIFAR-10
  (``cifarnet.py``), with the repo's recipes: the settings and the assumptions are in each module.
- ``performance.py``: Section 5 on the suite's network model (``bench/hardware/network.py``; simulated).
- ``latency.py``: ternarize-and-pack throughput on a 10M-element gradient next to a plain copy.

Where the repo and the paper differ from what a claim needs, the modules say so. Two things to know when
reading the results: 2-bit payloads plus per-tensor fp32 scalers give slightly less than 16× fewer bytes than
fp32 (15.995× for LeNet with every layer quantized), so the communication claim tests 2 bits per element and
at least 15.9×; and the paper's Section 5 formula could not be recovered, so its throughput figures are
compared with the suite's own model, labelled simulated.
"""
