"""TernGrad: Ternary Gradients to Reduce Communication in Distributed Deep Learning.

Wei Wen, Cong Xu, Feng Yan, Chunpeng Wu, Yandan Wang, Yiran Chen, Hai Li. NeurIPS 2017. arXiv:1705.07878.
Code: https://github.com/wenwei202/terngrad (TensorFlow 1.x; ``terngrad/inception/bingrad_common.py`` and
``inception_train.py``).

**Idea.** In synchronous data-parallel SGD, workers exchange gradients every step. TernGrad sends each gradient
tensor as one float scaler s and a ternary vector in {-1, 0, +1}: g̃ = s·sign(g)∘b with b_k ~ Bernoulli(|g_k|/s),
an unbiased estimate of g (when |g_k| ≤ s) at 2 bits per element instead of 32.

**Implemented so far** (``method.py``; following ``bingrad_common.py`` and ``inception_train.py``):

- the layer-wise scaler: s = c·σ with σ the tensor's standard deviation (population form: the square root of
  the mean squared deviation from the mean, as in the repo) when the clip factor c > 1e-5, else s = max|g|;
  c = 2.5 by default;
- clipping folded into the scaler: the repo draws r ~ U(0, s) and keeps sign(g)·s where r < |g|, so an element
  with |g| > s always becomes ±s (its gradient is clipped to the scaler) and one with |g| ≤ s becomes ±s with
  probability |g|/s;
- scaler sharing across workers: the maximum of the workers' scalers per tensor (``max_scalers``), computed
  before ternarizing, so every worker's ternary values share one level;
- the option to leave the last layer (the logits' weight and bias) unquantized (the repo's default; its
  ``--quantize_logits`` quantizes them too);
- the 2-bit codec: 0/1/2 for -1/0/+1, four values per byte. The repo packs four contiguous quarters of the
  tensor into the four bit pairs of each byte and always appends 1-4 padding values; here value i goes to bit
  pair i mod 4 of byte i // 4 and only the last byte is padded (same ceil(n/4) bytes, exact round trip).
- ``distributed.py``: the gradient exchange between real worker processes over ``torch.distributed`` (gloo on
  CPU): scalers all-reduced with MAX, packed payloads all-gathered and decoded, float tensors (unquantized
  layers, the fp32 baseline) all-reduced; bytes sent counted from the tensors each worker contributes; a
  launcher that fails with a clear message when a worker dies or exceeds its time limit.

**Not yet here** (issue 4): the claims file and the LeNet/MNIST and CifarNet/CIFAR-10 experiments at N = 2, 4, 8
workers, the ablations (no clipping, one model-wide scaler), the network performance model of Section 5, and
the latency case of ternarize-and-pack throughput. Until ``claims.yaml`` exists, the suite does not discover
this folder; its unit tests run with the others.
"""
