package lb.dataplane.sched;

/**
 * Takes the eligible backends in turn, in slot order. Weight only gates eligibility.
 * <p>
 * When the pool changes, the turn continues with the first eligible backend after the one picked
 * last, so a change neither repeats nor skips a backend.
 */
public final class RoundRobinScheduler extends PoolTrackingScheduler
{
    private int nextIndex;
    private int lastSlot = -1;

    /**
     * @param pool the backends to pick from.
     */
    public RoundRobinScheduler(final BackendPool pool)
    {
        super(pool);
    }

    /**
     * {@inheritDoc}
     */
    public int pick(final int clientIp, final int flowHash)
    {
        refresh();
        final int count = pool.eligibleCount();
        if (count == 0)
        {
            return NO_BACKEND;
        }

        final int index = nextIndex < count ? nextIndex : 0;
        final int handle = pool.eligibleHandle(index);
        nextIndex = index + 1;
        lastSlot = BackendPool.slotOf(handle);

        return handle;
    }

    /**
     * {@inheritDoc}
     */
    public SchedulerKind kind()
    {
        return SchedulerKind.ROUND_ROBIN;
    }

    void onPoolChanged()
    {
        // The eligible list is in slot order: resume after the slot picked last.
        final int count = pool.eligibleCount();
        int index = 0;
        while (index < count && BackendPool.slotOf(pool.eligibleHandle(index)) <= lastSlot)
        {
            index++;
        }
        nextIndex = index;
    }
}
