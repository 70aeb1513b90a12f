package lb.dataplane.sched;

/**
 * Picks the eligible backend with the fewest active flows (the pool's counters, which the pipeline
 * raises when a flow is created and lowers when it ends or expires): {@code lc}. Weighted
 * ({@code wlc}), it picks the smallest active flows / weight instead, comparing ratios by
 * cross-multiplication in longs (a1 * w2 &lt; a2 * w1), so there is no division and no rounding;
 * unweighted, every weight counts as 1 and weight only gates eligibility.
 * <p>
 * Ties are broken round robin: the scan starts just after the backend picked last, and only a
 * strictly smaller count displaces the first candidate, so equally loaded backends take turns.
 */
public final class LeastConnectionsScheduler extends PoolTrackingScheduler
{
    private final boolean weighted;
    private int startIndex;

    /**
     * @param pool the backends to pick from.
     */
    public LeastConnectionsScheduler(final BackendPool pool)
    {
        this(pool, false);
    }

    /**
     * @param pool     the backends to pick from.
     * @param weighted true for weighted least connections (active / weight).
     */
    public LeastConnectionsScheduler(final BackendPool pool, final boolean weighted)
    {
        super(pool);
        this.weighted = weighted;
    }

    /**
     * {@inheritDoc}
     */
    public int pick(final int clientIp, final int flowHash)
    {
        final BackendPool pool = this.pool;
        final int count = pool.eligibleCount();
        if (count == 0)
        {
            return NO_BACKEND;
        }

        final int start = startIndex < count ? startIndex : 0;
        int bestIndex = start;
        int bestHandle = pool.eligibleHandle(start);
        long bestActive = pool.activeFlows(bestHandle);
        long bestWeight = weight(pool, bestHandle);
        for (int step = 1; step < count; step++)
        {
            int index = start + step;
            if (index >= count)
            {
                index -= count;
            }
            final int handle = pool.eligibleHandle(index);
            final long active = pool.activeFlows(handle);
            final long weight = weight(pool, handle);
            if (active * bestWeight < bestActive * weight)
            {
                bestIndex = index;
                bestHandle = handle;
                bestActive = active;
                bestWeight = weight;
            }
        }
        startIndex = bestIndex + 1;

        return bestHandle;
    }

    private long weight(final BackendPool pool, final int handle)
    {
        return weighted ? pool.weight(handle) : 1;
    }

    /**
     * {@inheritDoc}
     */
    public SchedulerKind kind()
    {
        return weighted ? SchedulerKind.WEIGHTED_LEAST_CONNECTIONS : SchedulerKind.LEAST_CONNECTIONS;
    }
}
