"""OR-Tools reference for ReviewBenchmark: the naive min-cost flow of the exported instance (q = 1).

Graph: source -> expert (capacity load) -> (organisation, bid) (capacity 1 per pair, cost -affinity,
one arc per non-conflicting pair, zero-affinity pairs included) -> bid (capacity 1: the organisation
rule) -> sink (capacity k). Prints the node and arc counts, the time of solve() alone, the objective and
the peak memory (VmHWM), then one RESULT line of JSON.
"""
import json
import sys
import time

import numpy as np
from ortools.graph.python import min_cost_flow


def peak_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def main(directory):
    bids, experts, organisations, k, load = map(int, open(f"{directory}/meta.txt").read().split())
    organisation = np.fromfile(f"{directory}/organisation.i32", dtype=np.int32).astype(np.int64)
    affinity = np.fromfile(f"{directory}/affinity.i32", dtype=np.int32).reshape(-1, 3)
    conflict = np.fromfile(f"{directory}/conflict.i32", dtype=np.int32).reshape(-1, 2)

    started = time.perf_counter()
    dense = np.zeros((experts, bids), dtype=np.int64)
    dense[affinity[:, 0], affinity[:, 1]] = affinity[:, 2]
    allowed = np.ones((experts, bids), dtype=bool)
    allowed[conflict[:, 0], conflict[:, 1]] = False
    expert_of_pair, bid_of_pair = np.nonzero(allowed)
    expert_of_pair = expert_of_pair.astype(np.int64)
    bid_of_pair = bid_of_pair.astype(np.int64)
    costs_of_pairs = -dense[expert_of_pair, bid_of_pair]
    del dense, allowed

    source = 0
    expert_node = 1
    panel_node = expert_node + experts
    bid_node = panel_node + organisations * bids
    sink = bid_node + bids
    node_count = sink + 1

    tails = np.concatenate([
        np.full(experts, source, dtype=np.int64),
        expert_node + expert_of_pair,
        panel_node + np.arange(organisations * bids, dtype=np.int64),
        bid_node + np.arange(bids, dtype=np.int64),
    ])
    heads = np.concatenate([
        expert_node + np.arange(experts, dtype=np.int64),
        panel_node + organisation[expert_of_pair] * bids + bid_of_pair,
        bid_node + np.tile(np.arange(bids, dtype=np.int64), organisations),
        np.full(bids, sink, dtype=np.int64),
    ])
    capacities = np.concatenate([
        np.full(experts, load, dtype=np.int64),
        np.ones(len(expert_of_pair), dtype=np.int64),
        np.ones(organisations * bids, dtype=np.int64),
        np.full(bids, k, dtype=np.int64),
    ])
    costs = np.concatenate([
        np.zeros(experts, dtype=np.int64),
        costs_of_pairs,
        np.zeros(organisations * bids + bids, dtype=np.int64),
    ])
    del expert_of_pair, bid_of_pair, costs_of_pairs

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    supplies = np.zeros(node_count, dtype=np.int64)
    supplies[source] = k * bids
    supplies[sink] = -k * bids
    flow.set_nodes_supplies(np.arange(node_count, dtype=np.int64), supplies)
    arc_count = len(tails)
    del tails, heads, capacities, costs, supplies
    built = time.perf_counter() - started
    print(f"OR-Tools graph: {node_count} nodes, {arc_count} arcs, built in {built:.1f} s", flush=True)

    started = time.perf_counter()
    started_cpu = time.process_time()
    status = flow.solve()
    solve_seconds = time.perf_counter() - started
    solve_cpu_seconds = time.process_time() - started_cpu
    if status != flow.OPTIMAL:
        print(f"OR-Tools status {status}", flush=True)
        sys.exit(1)
    objective = -flow.optimal_cost()
    memory = peak_mib()
    print(f"OR-Tools q = 1: objective {objective}, solve() {solve_seconds:.3f} s (CPU {solve_cpu_seconds:.3f} s), peak memory (VmHWM) {memory} MiB", flush=True)
    print("RESULT " + json.dumps({"objective": objective, "solve_s": round(solve_seconds, 3), "solve_cpu_s": round(solve_cpu_seconds, 3), "peak_mib": memory,
                                  "nodes": node_count, "arcs": arc_count}))


if __name__ == "__main__":
    main(sys.argv[1])
