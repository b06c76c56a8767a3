"""Group Scissor: Scaling Neuromorphic Computing Design to Large Neural Networks.

Yandan Wang, Wei Wen, Beiye Liu, Donald Chiarulli, Hai Li. DAC 2017, arXiv:1702.03443. No code of the paper was
found; the authors' rank-clipping code is in https://github.com/wenwei202/caffe (master, commit 5b4276c4:
``python/lowrank_netsolver.py``, ``examples/mnist/readme.md``).

**Idea.** A memristor crossbar has a limited size, so a large layer is cut into many crossbars, and the wires
between crossbars congest the routing. *Rank clipping* integrates low-rank approximation into training: each
layer is trained as two factors whose rank is clipped periodically to the smallest keeping a share of the
layer's energy, cutting the crossbar area (13.62% of the original on LeNet, 51.81% on ConvNet, without accuracy
loss). *Group connection deletion* then trains with a group Lasso over the connections between crossbars and
deletes those that reach zero, cutting the routing area (to 8.1% and 52.06%).

**What is here.** ``method.py``: rank clipping, deployment of each layer as factors or dense, crossbar
accounting, the wire group Lasso and deletion, on the crossbar model ``bench/hardware/crossbar.py``
(simulated: cells, 64×64 crossbars, wires). ``experiment.py``: LeNet/MNIST against a dense reference trained
for as many iterations.

**Deviations and assumptions.** The paper's body was not reachable (its abstract was), so:

- **Rank clipping** follows the authors' code: every layer but the classifier factored at full rank; ranks
  clipped every 500 iterations to keep 99% of the energy (LeNet), until 60% of a 30k-iteration run; lr 0.01,
  momentum 0.9, weight decay 5e-4, × 0.9 at 20k/24k/26k/28k/29k. Their PCA of the low-rank factor is replaced by
  the SVD of the layer's product (the same when the linear factor is orthonormal; invariant to how the factors
  share the scale). The optimizer restarts after each clipping (the factors change shape).
- **Crossbar area** is taken as the cross-points (cells) of the mapped matrices, a conv lowered to
  ``(out, in·k·k)``, each layer mapped as factors only where they hold fewer cells than the dense matrix. The
  count of 64×64 crossbars is reported too, but cannot be the paper's measure: LeNet's layers need at least
  38 of the dense network's 121 crossbars whatever the ranks (fc1 has 800 inputs, fc2 500), 31%, above the
  claimed 13.62%.
- **Routing area** is taken as proportional to the number of wires into and out of the crossbars (per tile,
  each input row and output column holding a nonzero weight; ``crossbar.routing_wires``), no placement or wire
  length. ``S = 64`` (Wen et al., DAC 2015).
- **Group connection deletion**: the groups are those wires (each tile's input row segments and output
  column segments of every mapped matrix, so also the factors); the Lasso strength, the deletion threshold
  (L2 norm of a wire's weights), the training length and the fine-tuning (lr 0.001, deleted wires held at 0)
  are this suite's assumptions. The authors' block group Lasso code (``scnn`` branch, blocks of 1 output × 50
  inputs) may be related; its strength is not recorded.
- ``cpu`` scale: 2 epochs of dense pretraining instead of 10.67; 2 epochs of rank clipping with a clipping
  every 30 iterations (as many clippings, 37, as the authors' 18k iterations at one per 500, in 1/16 of the
  iterations); 1 epoch of group Lasso and 0.5 of fine-tuning.
- ConvNet on CIFAR-10 (51.81%, 52.06%) is not implemented yet (``claims.yaml``).
"""
