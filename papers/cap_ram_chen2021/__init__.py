"""CAP-RAM: A Charge-Domain In-Memory Computing 6T-SRAM for Accurate and Precision-Programmable CNN Inference.

Zhiyu Chen, Zhanghao Yu, Qing Jin, Yan He, Jingyu Wang, Sheng Lin, Dai Li, Yanzhi Wang, Kaiyuan Yang. IEEE JSSC 2021.
No code (a fabricated 65-nm chip).

**Idea.** A 512x128 6T-SRAM macro computes multiply-accumulates in the charge domain: cells share
capacitive MAC circuits, a 7-bit charge-injection SAR ADC reads the column sums, and the weight and activation
precisions are programmable. One macro stores a whole pruned and quantized CNN: 98.8% on MNIST, 89.0% on CIFAR-10;
573.4 GOPS and 49.4 TOPS/W in silicon.

**What is here.** The testable core: a CNN pruned and quantized until its weights fit 65,536 bit cells, evaluated
through a model of the macro's readout. ``method.py``: the budget rule, the filter+column rate that meets it, the
readout's configuration (``bench.hardware.analog.AnalogReadout``). ``experiment.py``: LeNet-5 on MNIST (the shared
ADMM recipe), filter+column ADMM into the budget, masked retraining, 4-bit weights and 4-bit inputs, accuracy
digitally and through the readout with read noise.

**Deviations and assumptions.**

- The paper's body was not read. A third-party notes file built from it [3rd] names LeNet-5 for MNIST and
  ResNet-20 for CIFAR-10, pruned and quantized ADMM-NN style, and a system linearity error under 2 LSB after
  calibration; the bit widths per layer and the ADC range setting were not found. The suite's choices: Caffe's
  LeNet-5, 4-bit weights and 4-bit inputs for every layer [assumption], filter+column pruning so that no index is
  stored [assumption], the budget rule of ``method.py`` (weights only, compacted, one bit per cell) [assumption].
- The readout is the suite's model, not the circuit: 64 rows per conversion [assumption], a uniform 7-bit ADC
  (abstract) over a per-layer range calibrated on 1,000 training images [assumption], Gaussian read noise of 1 LSB
  per conversion [assumption, within the notes' 2-LSB error]; no charge sharing, capacitor mismatch or ADC nonlinearity.
- LeNet-5 has no nonlinearity after its convolutions, so the inputs of conv2 and fc1 are signed; they are put on
  symmetric levels (the macro's activation encoding for signed inputs was not read).
- cpu scale: 2 pretraining, 1 ADMM and 1 retraining epoch instead of the template's 10.67 + 40 + 40.
- The retraining is in floating point and the inputs are quantized afterwards. The first two cpu runs retrained
  through the 4-bit input quantizer (straight-through): first with an unclipped estimator, which let LeNet's
  unnormalized activations grow (75.6% through the readout), then with the clipped one (91.4%). On calibration
  seed 1000 the network retrained in floating point reached 96.9% digitally against 91.6% for the one retrained
  through the quantizer, so the default changed to that (``qat_inputs``); both earlier runs are in the README.
- aihwkit was not used (``papers/memristor_admm_yuan2019``'s docstring gives why); SRAM cells have no conductance
  drift to model, and the readout's noise is lumped into the ADC.
"""
