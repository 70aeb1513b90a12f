package lb.dataplane.sched;

/**
 * Maps a client IP to one of the eligible backends by hashing it, so a client keeps its backend
 * (for new flows too) while the set of eligible backends stays the same. Weight only gates
 * eligibility. Any change to the eligible set remaps most clients; use {@link MaglevScheduler}
 * when that matters.
 */
public final class SourceHashScheduler extends PoolTrackingScheduler
{
    /**
     * @param pool the backends to pick from.
     */
    public SourceHashScheduler(final BackendPool pool)
    {
        super(pool);
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

        // Neighbouring addresses differ only in low bits: mix before scaling to [0, count).
        final long hash = mix32(clientIp) & 0xFFFF_FFFFL;
        return pool.eligibleHandle((int)((hash * count) >>> 32));
    }

    /**
     * {@inheritDoc}
     */
    public SchedulerKind kind()
    {
        return SchedulerKind.SOURCE_HASH;
    }

    /**
     * MurmurHash3's 32-bit finaliser: every input bit affects every output bit.
     */
    public static int mix32(final int value)
    {
        int h = value;
        h ^= h >>> 16;
        h *= 0x85EB_CA6B;
        h ^= h >>> 13;
        h *= 0xC2B2_AE35;
        h ^= h >>> 16;
        return h;
    }
}
