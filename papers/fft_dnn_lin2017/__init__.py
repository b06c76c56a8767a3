"""FFT-Based Deep Learning Deployment in Embedded Systems.

Sheng Lin, Ning Liu, Mahdi Nazemi, Hongjia Li, Caiwen Ding, Yanzhi Wang, Massoud Pedram. DATE 2018,
arXiv:1712.04910 (v1). No official code.

**Idea.** Make the weight matrices of fully connected (and, reshaped, convolutional) layers block-circulant:
each b×b block is defined by one vector, so storage falls from O(n²) to O(n), and a block's product with the
input is a circular convolution, computed as ``IFFT(FFT(w) ∘ FFT(x))`` in O(n log n) instead of O(n²) (Sec. 3.3,
Eq. 3). Training updates the defining vectors through the same FFTs (Eq. 4); inference runs on Android phones
(OpenCV, Java and C++), compared with IBM TrueNorth.

**What is here.**

- ``method.py``: the block-circulant layer (first-column convention, the paper's displayed matrix), its FFT
  product with the sum over input blocks taken in the frequency domain, its dense expansion for tests, and a
  multiply-add model of the FFT product.
- ``latency.py``: batch-1 products of n×n layers (n = 128 … 4096, one fully circulant block each) and of the
  paper's MNIST Arch. 1, dense GEMV against FFT with precomputed weight spectra, for ``bench.latency``.
- ``experiment.py``: Arch. 1 (256-128-128-10 on 16×16 MNIST) trained dense and block-circulant at b = 8, 32, 128
  from one seed and data order (``mnist_blocks``); the dense/FFT latency ratios timed side by side
  (``fc_latency``).

**Deviations and assumptions.**

- The paper's tables (platforms, accuracies, runtimes, block sizes) were not reachable; its text was. Arch. 1
  and the bilinear resize come from Sec. 5.1. The block size of Arch. 1 is read from Sec. 4.1, which builds W
  from circulant blocks as large as a layer allows (``W = [C_1|…|C_k]ᵀ``): b = 128 for both hidden layers. The
  sweep over b = 8 and 32 is the suite's.
- The MNIST training recipe is not published: SGD with momentum 0.9 (the paper's CIFAR-10 setting) at lr 0.01,
  batch 128, ReLU, 10 epochs at the ``cpu`` scale [assumption]. The output layer (10 units) stays dense.
- Gradients come from autograd through ``torch.fft``, which computes the same circular correlations as Eq. 4
  (and the input gradient the paper does not write out), by FFT.
- Speed is measured on this machine's CPU with PyTorch's FFT and GEMV, not on the paper's ARM phones with
  OpenCV: the asymptotic claim is tested by how the dense/FFT time ratio grows with n, not by the phones'
  runtimes or the TrueNorth comparison (not testable here).
"""
