"""Federated learning on Flower (``flwr``), run in one process, with bytes on the wire counted.

The federated papers (``esmfl_lin2020``, ``sefl_deng2022``) run Flower's own server side: its ``FedAvg``
strategy, its ``DefaultWorkflow`` (plain FedAvg rounds) and its ``SecAggPlusWorkflow`` (SecAgg+, Bell et al.
2020: pairwise masks from X25519 key agreement, Shamir shares of the mask seeds so that the server can remove the
masks of clients that drop out), and on the client side Flower ``ClientApp`` objects with ``NumPyClient`` clients
and Flower's ``secaggplus_mod``.

What is ours is the transport, :class:`LoopbackGrid`: a Flower ``Grid`` that hands each message to the node's
``ClientApp`` in this process, one node after the other. Flower's simulation engine would do the same through
Ray, which the suite does not install (``flwr[simulation]`` pins ``ray``, a large dependency, for a scheduling
layer a 2-core run does not need); the deployment engine would need a SuperLink and SuperNode processes. Every
message, both ways, is serialised to Flower's protobuf wire format and parsed back, so that each node works on its
own copy (as over a network) and ``bytes_down`` / ``bytes_up`` count the serialised record dictionaries that
would travel: the payload, not gRPC framing or TLS. A node listed by ``drops`` for a message does not answer it:
that is a client dropping out at that stage of the protocol.

The helpers around it: :func:`label_shards`, the pathological non-IID split of McMahan et al. (2017) (sort by
label, two shards per client); :class:`TorchClient`, a ``NumPyClient`` that trains a torch model locally and sends
its weight *update*, encoded by a pluggable function (dense, top-k with error feedback, or the kept coordinates of
a pruning mask); :class:`UpdateFedAvg`, Flower's ``FedAvg`` on such updates; :func:`run_federated`, one
federated run.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import torch
from flwr.app import Context, Message, RecordDict
from flwr.client import ClientApp, NumPyClient
from flwr.client.mod import secaggplus_mod
from flwr.common import FitRes, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.common.constant import SUPERLINK_NODE_ID
from flwr.common.logger import FLOWER_LOGGER
from flwr.common.serde import recorddict_from_proto, recorddict_to_proto
from flwr.proto.recorddict_pb2 import RecordDict as ProtoRecordDict  # pylint: disable=no-name-in-module
from flwr.server import LegacyContext, ServerConfig
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.serverapp.grid import Grid
from flwr.supercore.task_identity import TaskIdentity
from torch import nn

from bench.train import shuffled_batches

RUN_ID = 1


def quiet_flower() -> None:
    """Flower logs every stage of every round at INFO, and a warning each time a client that dropped out of a
    SecAgg+ round rejoins the next one: keep its errors only."""
    FLOWER_LOGGER.setLevel(logging.ERROR)


def _on_the_wire(message: Message, grid: LoopbackGrid, direction: str) -> Message:
    """Serialise the message's content as Flower would send it, count the bytes, and return a parsed copy."""
    if not message.has_content():
        return message
    wire = recorddict_to_proto(message.content).SerializeToString()
    setattr(grid, f"bytes_{direction}", getattr(grid, f"bytes_{direction}") + len(wire))
    return Message(content=recorddict_from_proto(ProtoRecordDict.FromString(wire)),
                   metadata=copy.deepcopy(message.metadata))


class LoopbackGrid(Grid):
    """A Flower ``Grid`` whose nodes are ``ClientApp`` calls in this process (see the module docstring).

    ``drops(node_id, message)`` returns True when the node should not answer ``message`` (it has dropped out).
    """

    def __init__(self, app: ClientApp, node_ids: Iterable[int],
                 drops: Callable[[int, Message], bool] = lambda node_id, message: False):
        self.app, self.drops = app, drops
        self.contexts = {nid: Context(run_id=RUN_ID, node_id=nid, node_config={}, state=RecordDict(), run_config={})
                         for nid in node_ids}
        self.bytes_down = 0
        self.bytes_up = 0

    def set_run(self, run) -> None:  # the run is fixed: one grid per federated run
        pass

    @property
    def run(self):
        return SimpleNamespace(run_id=RUN_ID)

    def create_message(self, content, message_type, dst_node_id, group_id, ttl=None) -> Message:
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> list[int]:
        return list(self.contexts)

    def push_messages(self, messages):
        raise NotImplementedError("LoopbackGrid answers messages synchronously: use send_and_receive")

    def pull_messages(self, message_ids):
        raise NotImplementedError("LoopbackGrid answers messages synchronously: use send_and_receive")

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> list[Message]:
        replies = []
        for message in messages:
            message.metadata.__dict__["_message_id"] = uuid.uuid4().hex
            received = _on_the_wire(message, self, "down")
            node = message.metadata.dst_node_id
            if self.drops(node, received):
                continue
            reply = self.app(received, self.contexts[node])
            reply.metadata.__dict__["_message_id"] = uuid.uuid4().hex
            replies.append(_on_the_wire(reply, self, "up"))
        return replies


def label_shards(labels: torch.Tensor, clients: int, shards_per_client: int, generator: torch.Generator
                 ) -> list[torch.Tensor]:
    """McMahan et al.'s pathological non-IID split: sort by label, cut into ``clients × shards_per_client`` equal
    shards, deal each client ``shards_per_client`` shards at random. Returns one index tensor per client."""
    order = torch.sort(labels, stable=True).indices
    shards = order[: len(order) // (clients * shards_per_client) * clients * shards_per_client]
    shards = shards.view(clients * shards_per_client, -1)
    deal = torch.randperm(len(shards), generator=generator).view(clients, shards_per_client)
    return [shards[d].flatten() for d in deal]


def get_flat(model: nn.Module) -> np.ndarray:
    """All of the model's parameters as one float32 vector (the order of ``model.parameters()``)."""
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy().astype(np.float32)


def set_flat(model: nn.Module, flat: np.ndarray) -> None:
    """Load a flat vector into the model's parameters (a copy: training does not write into ``flat``)."""
    torch.nn.utils.vector_to_parameters(torch.tensor(np.asarray(flat), dtype=torch.float32), model.parameters())


Encode = Callable[["TorchClient", np.ndarray], list[np.ndarray]]
Decode = Callable[[list[np.ndarray], int], np.ndarray]


def dense_encode(client: TorchClient, update: np.ndarray) -> list[np.ndarray]:
    return [update]


def dense_decode(arrays: list[np.ndarray], size: int) -> np.ndarray:
    return np.asarray(arrays[0], dtype=np.float64)


class TorchClient(NumPyClient):
    """A client that trains ``model`` on its shard for ``local_steps`` SGD steps from the global weights it is
    sent, and returns ``encode(self, update)`` where ``update`` is its new weights minus the global ones.

    ``mask`` (a 0/1 vector over the flat parameters), when set, is re-applied after every local step: the client
    trains the pruned model. ``ledger``, when given (:attr:`UpdateFedAvg.ledger`), receives ``(examples, update)``
    in the clear: a verification channel outside the protocol, for checking what secure aggregation computed.
    """

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, local_steps: int, batch_size: int,
                 lr: float, generator: torch.Generator, encode: Encode = dense_encode,
                 ledger: list | None = None):
        self.model, self.x, self.y = model, x, y
        self.ledger = ledger
        self.local_steps, self.batch_size, self.lr = local_steps, batch_size, lr
        self.generator, self.encode = generator, encode
        self.mask: np.ndarray | None = None
        self.residual: np.ndarray | None = None  # error feedback, for encoders that keep one
        self.train_seconds = 0.0
        self.last_update: np.ndarray | None = None

    def fit(self, parameters, config):
        start = time.perf_counter()
        (flat,) = parameters
        set_flat(self.model, flat)
        mask = None if self.mask is None else torch.as_tensor(self.mask)
        opt = torch.optim.SGD(self.model.parameters(), lr=self.lr)
        batches = shuffled_batches(self.x, self.y, self.batch_size, self.generator)
        self.model.train()
        for _ in range(self.local_steps):
            xb, yb = next(batches)
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(self.model(xb), yb).backward()
            opt.step()
            if mask is not None:
                with torch.no_grad():
                    torch.nn.utils.vector_to_parameters(
                        torch.nn.utils.parameters_to_vector(self.model.parameters()) * mask, self.model.parameters())
        update = get_flat(self.model) - np.asarray(flat, dtype=np.float32)
        self.train_seconds += time.perf_counter() - start
        self.last_update = update
        if self.ledger is not None:
            self.ledger.append((len(self.x), update))
        return self.encode(self, update), len(self.x), {}


class UpdateFedAvg(FedAvg):
    """Flower's ``FedAvg`` over weight *updates*: each client's arrays are decoded to a dense update, the server
    adds their example-weighted mean to the global weights it keeps. Results are sorted by node so the float sum
    does not depend on arrival order.

    Under SecAgg+, Flower's workflow hands every surviving client's ``FitRes`` the already unmasked weighted mean,
    so the same code adds that mean.
    """

    def __init__(self, initial: np.ndarray, decode: Decode = dense_decode, **kwargs):
        super().__init__(initial_parameters=ndarrays_to_parameters([initial]), fraction_fit=1.0,
                         fraction_evaluate=0.0, accept_failures=True, **kwargs)
        self.weights = np.asarray(initial, dtype=np.float64)
        self.decode = decode
        self.last_mean: np.ndarray | None = None  # the last round's aggregated mean update
        self.rounds_aggregated = 0
        self.ledger: list[tuple[int, np.ndarray]] = []  # this round's updates in the clear (see TorchClient)
        self.errors: list[float] = []  # per round: max |aggregated mean - mean of the ledger's updates|

    def configure_fit(self, server_round, parameters, client_manager):
        self.ledger.clear()
        return super().configure_fit(server_round, parameters, client_manager)

    def aggregate_fit(self, server_round: int, results: list[tuple[ClientProxy, FitRes]], failures):
        if not results:
            return None, {}
        results = sorted(results, key=lambda r: r[0].cid)
        total = sum(res.num_examples for _, res in results)
        mean = sum(res.num_examples / total * self.decode(parameters_to_ndarrays(res.parameters), self.weights.size)
                   for _, res in results)
        self.last_mean = mean
        self.rounds_aggregated += 1
        if self.ledger:
            n = sum(e for e, _ in self.ledger)
            clear = sum(e / n * u.astype(np.float64) for e, u in self.ledger)
            self.errors.append(float(np.abs(mean - clear).max()))
        self.weights = self.weights + mean
        return ndarrays_to_parameters([self.weights.astype(np.float32)]), {}


@dataclass
class FederatedRun:
    """What one federated run measured."""

    weights: np.ndarray
    bytes_down: int
    bytes_up: int
    fit_seconds: list[float] = field(default_factory=list)  # wall time of each round's fit stage (all of it)
    train_seconds: float = 0.0  # of which the clients' local training
    rounds_aggregated: int = 0  # rounds whose fit stage produced new global weights
    errors: list[float] = field(default_factory=list)  # see UpdateFedAvg.errors


class _Timed:
    def __init__(self, workflow):
        self.workflow, self.seconds = workflow, []

    def __call__(self, grid, context):
        start = time.perf_counter()
        self.workflow(grid, context)
        self.seconds.append(time.perf_counter() - start)


def run_federated(clients: dict[int, TorchClient], strategy: UpdateFedAvg, rounds: int, *,
                  secagg: SecAggPlusWorkflow | None = None,
                  drops: Callable[[int, Message], bool] = lambda node_id, message: False) -> FederatedRun:
    """Run ``rounds`` rounds of Flower's ``DefaultWorkflow`` with every client in ``clients`` (keyed by node id,
    from 1), plain FedAvg or, with ``secagg``, its SecAgg+ fit workflow. Sequential and deterministic given the
    seeds of NumPy's global generator (SecAgg+'s stochastic quantisation) and of the clients' generators."""
    from flwr.server.workflow.default_workflows import default_fit_workflow

    quiet_flower()
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = RUN_ID, SUPERLINK_NODE_ID, 0
    app = ClientApp(client_fn=lambda context: clients[context.node_id].to_client(),
                    mods=[secaggplus_mod] if secagg is not None else [])
    grid = LoopbackGrid(app, clients, drops)
    context = LegacyContext(Context(run_id=RUN_ID, node_id=SUPERLINK_NODE_ID, node_config={}, state=RecordDict(),
                                    run_config={}),
                            config=ServerConfig(num_rounds=rounds), strategy=strategy)
    fit = _Timed(secagg if secagg is not None else default_fit_workflow)
    before = sum(c.train_seconds for c in clients.values())
    DefaultWorkflow(fit_workflow=fit, evaluate_workflow=lambda grid, context: None)(grid, context)
    return FederatedRun(weights=strategy.weights, bytes_down=grid.bytes_down, bytes_up=grid.bytes_up,
                        fit_seconds=fit.seconds, train_seconds=sum(c.train_seconds for c in clients.values()) - before,
                        rounds_aggregated=strategy.rounds_aggregated, errors=list(strategy.errors))
