package lb.dataplane.sched;

/**
 * Picks the eligible backend with the smallest active flows / weight. Ratios are compared by
 * cross-multiplication in longs (a1 * w2 &lt; a2 * w1), so there is no division and no rounding.
 * <p>
 * Ties are broken round robin as in {@link LeastConnectionsScheduler}.
 */
public final class WeightedLeastConnectionsScheduler extends PoolTrackingScheduler
{
    private int startIndex;

    /**
     * @param pool the backends to pick from.
     */
    public WeightedLeastConnectionsScheduler(final BackendPool pool)
    {
        super(pool);
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
        long bestWeight = pool.weight(bestHandle);
        for (int step = 1; step < count; step++)
        {
            int index = start + step;
            if (index >= count)
            {
                index -= count;
            }
            final int handle = pool.eligibleHandle(index);
            final long active = pool.activeFlows(handle);
            final long weight = pool.weight(handle);
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

    /**
     * {@inheritDoc}
     */
    public SchedulerKind kind()
    {
        return SchedulerKind.WEIGHTED_LEAST_CONNECTIONS;
    }
}
