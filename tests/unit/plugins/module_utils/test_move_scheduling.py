"""How run_queue cuts move batches: the first round staggered so shells do not all restart PowerShell at once."""

import heapq

from ansible_collections.lync.migration.plugins.module_utils.lync.concurrency import (
    guided_batch_size,
    staggered_batch_size,
)


def test_first_round_is_spread_between_half_and_all_of_the_batch():
    sizes = [staggered_batch_size(100, i, 25) for i in range(25)]
    assert sizes[0] == 50 and max(sizes) <= 100 and min(sizes) >= 50
    assert len(set(sizes)) >= 20          # ends spread out, not a handful of clumps
    assert staggered_batch_size(100, 25, 25) == 100      # later rounds are whole batches
    assert staggered_batch_size(100, 0, 1) == 100        # one shell: nothing to stagger
    assert staggered_batch_size(30, 0, 25, min_batch=25) == 25   # never below min_batch
    assert staggered_batch_size(20, 3, 25, min_batch=25) == 20   # small batches are left alone


def makespan(n, capacity, shells, batch_size, startup, t_move, stagger):
    """A pool serving ``capacity`` moves at once (FIFO), ``shells`` shells each paying ``startup`` per batch
    and cutting batches as run_queue does. Virtual time."""
    events, waiting, seq = [], [], [0]
    state = {"next": 0, "taken": 0, "free": capacity}
    left = {}

    def push(at, kind, shell):
        seq[0] += 1
        heapq.heappush(events, (at, seq[0], kind, shell))

    def take(now, shell):
        remaining = n - state["next"]
        if remaining <= 0:
            return
        size = guided_batch_size(remaining, shells, batch_size)
        if stagger:
            size = staggered_batch_size(size, state["taken"], shells)
        state["taken"] += 1
        state["next"] += size
        left[shell] = size
        push(now + startup, "ready", shell)

    def request(now, shell):
        if state["free"]:
            state["free"] -= 1
            push(now + t_move, "done", shell)
        else:
            waiting.append(shell)

    for shell in range(shells):
        take(0.0, shell)
    now = 0.0
    while events:
        now, _seq, kind, shell = heapq.heappop(events)
        if kind == "done":
            state["free"] += 1
            if waiting:
                state["free"] -= 1
                push(now + t_move, "done", waiting.pop(0))
            left[shell] -= 1
            if left[shell] == 0:
                take(now, shell)
                continue
        request(now, shell)
    return now


def test_staggered_first_round_brings_a_saturated_pool_closer_to_the_ideal_bound():
    # Lync's numbers: 5.5 s PowerShell start and module import, 1 s per move, 20 moves at once, 25 shells.
    ideal = 10000 * 1.0 / 20
    equal = makespan(10000, 20, 25, 100, 5.5, 1.0, stagger=False) / ideal
    staggered = makespan(10000, 20, 25, 100, 5.5, 1.0, stagger=True) / ideal
    assert staggered < equal - 0.015, (equal, staggered)
    assert staggered < 1.05
