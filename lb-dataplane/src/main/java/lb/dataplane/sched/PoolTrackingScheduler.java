package lb.dataplane.sched;

/**
 * Base of the schedulers: holds the pool and the pool version the derived state was built from.
 */
abstract class PoolTrackingScheduler implements Scheduler
{
    final BackendPool pool;
    private long builtVersion;

    PoolTrackingScheduler(final BackendPool pool)
    {
        if (null == pool)
        {
            throw new NullPointerException("pool");
        }
        this.pool = pool;
        builtVersion = pool.version() - 1; // forces a build on the first refresh
    }

    /**
     * {@inheritDoc}
     */
    public final void refresh()
    {
        final long version = pool.version();
        if (version != builtVersion)
        {
            builtVersion = version;
            onPoolChanged();
        }
    }

    /**
     * {@inheritDoc}
     */
    public final BackendPool pool()
    {
        return pool;
    }

    /**
     * Rebuilds state derived from the pool. Schedulers that only read the pool's eligible list do
     * nothing here.
     */
    void onPoolChanged()
    {
    }
}
