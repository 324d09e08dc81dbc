"""Interleaved rounds: the baseline and the pages take turns, so drift cancels out.

On a small shared machine the throughput drifts over a run (by ±20 % within a
minute), so a page compared to a baseline measured once, far from it in time,
gets a ratio that says as much about the drift as about the page. Here, for
one company count, each round runs a baseline slice and then every page for a
short slice (the order of the pages rotates from round to round), and one more
baseline slice closes the last round:

    B  P1 P2 P3  B  P2 P3 P1  B  P3 P1 P2  B

A page's ratio in a round is its req/s divided by the baseline's req/s at the
middle of the page's slice, interpolated linearly between the two baseline
slices around the round (which removes any drift linear over a round, in either
direction); the ratio reported is the median over the rounds.
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import cpu
from .load import LoadResult

# Pause before each slice. When wrk stops, the requests it had in flight (up to one
# per connection) are still being served; without the pause they would slow the
# start of the next slice, and since every baseline slice follows a page slice,
# that would lower the baseline and flatter the pages.
SETTLE_SECONDS = 0.5


@dataclass
class Slice:
    result: LoadResult
    middle: float  # time.monotonic() halfway through the run


@dataclass
class Series:
    """What one page (or the baseline) measured at one company count."""

    slices: list[Slice] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # one per round, pages only
    failure: str = ""


def timed(run: Callable[[], LoadResult]) -> Slice:
    """Settle, then run one slice and note when its middle was."""
    time.sleep(SETTLE_SECONDS)
    start = time.monotonic()
    result = run()
    return Slice(result, (start + time.monotonic()) / 2)


def rotated(items: list, by: int) -> list:
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


def baseline_at(before: Slice, after: Slice, moment: float) -> float:
    """The baseline's req/s at `moment`, linear between the slices `before` and `after`."""
    span = after.middle - before.middle
    weight = (moment - before.middle) / span if span > 0 else 0.5
    return before.result.rps + weight * (after.result.rps - before.result.rps)


def median_load(results: list[LoadResult]) -> LoadResult:
    """Median req/s, p50, p99 and CPU per request over slices; requests and errors summed."""
    return LoadResult(
        requests=sum(r.requests for r in results),
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
        cpu_ms=cpu.median([r.cpu_ms for r in results]),
    )


def interleave(
    *,
    baseline: Callable[[], LoadResult] | None,
    pages: dict[str, Callable[[], LoadResult]],
    rounds: int,
    on_error: Callable[[str, Exception], None],
) -> tuple[Series, dict[str, Series]]:
    """Run `rounds` rounds of the baseline then every page; return each one's series.

    `baseline` and each page are callables running one slice of wrk. A page that
    fails once is dropped from the later rounds and reported as failed (its
    earlier slices are not reported); without a baseline, or when a baseline
    slice fails, no ratio is computed.
    """
    base = Series(failure="" if baseline else "not measured")
    series = {label: Series() for label in pages}

    def run(label: str, target: Series, slice_run: Callable[[], LoadResult]) -> Slice | None:
        try:
            measured = timed(slice_run)
        except Exception as error:  # noqa: BLE001 - reported, the other pages still run
            target.failure = f"failed: {error!r:.120}"
            on_error(label, error)
            return None
        target.slices.append(measured)
        return measured

    def baseline_slice() -> Slice | None:
        if base.failure or baseline is None:
            return None
        return run("baseline", base, baseline)

    before = baseline_slice()
    for number in range(rounds):
        this_round = []
        for label in rotated(list(pages), number):
            if series[label].failure:
                continue
            measured = run(label, series[label], pages[label])
            if measured:
                this_round.append((label, measured))
        after = baseline_slice()
        if before and after:
            for label, measured in this_round:
                reference = baseline_at(before, after, measured.middle)
                series[label].ratios.append(measured.result.rps / reference)
        before = after
    if base.failure:
        for page in series.values():
            page.ratios.clear()
    return base, series
