package lb.dataplane.sched;

/**
 * Picks uniformly at random among the eligible backends (what POX's ip_loadbalancer does). Weight
 * only gates eligibility: 0 takes no new flows, any other weight counts the same.
 * <p>
 * Uses its own xorshift64* generator, so picks are reproducible from a seed and need no shared or
 * thread-local state.
 */
public final class RandomScheduler extends PoolTrackingScheduler
{
    private static final long MULTIPLIER = 0x2545_F491_4F6C_DD1DL;
    private static final long ZERO_SEED_REPLACEMENT = 0x9E37_79B9_7F4A_7C15L;

    private long state;

    /**
     * A scheduler seeded from the clock.
     *
     * @param pool the backends to pick from.
     */
    public RandomScheduler(final BackendPool pool)
    {
        this(pool, System.nanoTime());
    }

    /**
     * A scheduler with a fixed seed, for reproducible picks.
     *
     * @param pool the backends to pick from.
     * @param seed any value; 0 is replaced by a fixed non-zero constant since xorshift needs one.
     */
    public RandomScheduler(final BackendPool pool, final long seed)
    {
        super(pool);
        state = seed == 0 ? ZERO_SEED_REPLACEMENT : seed;
    }

    /**
     * {@inheritDoc}
     */
    public int pick(final int clientIp, final int flowHash)
    {
        final int count = pool.eligibleCount();
        if (count == 0)
        {
            return NO_BACKEND;
        }

        // Top 32 random bits scaled to [0, count): bias is at most count / 2^32.
        final long random32 = nextLong() >>> 32;
        return pool.eligibleHandle((int)((random32 * count) >>> 32));
    }

    /**
     * {@inheritDoc}
     */
    public SchedulerKind kind()
    {
        return SchedulerKind.RANDOM;
    }

    private long nextLong()
    {
        long x = state;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        state = x;
        return x * MULTIPLIER;
    }
}
