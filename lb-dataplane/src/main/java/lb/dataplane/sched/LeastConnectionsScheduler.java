package lb.dataplane.sched;

/**
 * Picks the eligible backend with the fewest active flows (the pool's counters, which the pipeline
 * raises when a flow is created and lowers when it ends or expires). Weight only gates eligibility.
 * <p>
 * Ties are broken round robin: the scan starts just after the backend picked last, and only a
 * strictly smaller count displaces the first candidate, so equally loaded backends take turns.
 */
public final class LeastConnectionsScheduler extends PoolTrackingScheduler
{
    private int startIndex;

    /**
     * @param pool the backends to pick from.
     */
    public LeastConnectionsScheduler(final BackendPool pool)
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
        int bestActive = pool.activeFlows(bestHandle);
        for (int step = 1; step < count; step++)
        {
            int index = start + step;
            if (index >= count)
            {
                index -= count;
            }
            final int handle = pool.eligibleHandle(index);
            final int active = pool.activeFlows(handle);
            if (active < bestActive)
            {
                bestIndex = index;
                bestHandle = handle;
                bestActive = active;
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
        return SchedulerKind.LEAST_CONNECTIONS;
    }
}
