package lb.dataplane.sched;

import java.util.Arrays;

/**
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016): a lookup table of prime size M maps {@code flowHash mod M} to a backend.
 * <p>
 * Each backend has a preference list, a permutation of the table positions given by an offset and
 * a skip derived from two hashes of its (ip, port). Backends take turns claiming their next
 * preferred free position until the table is full. Removing one of N backends therefore mostly
 * frees its own positions and moves about 1/N of the flow hashes, and the table depends only on
 * the set of (ip, port, weight), not on slot numbers or the order backends were added.
 * <p>
 * Weights: in round r a backend may claim positions while it holds fewer than
 * r * weight / maxWeight of them, so the heaviest claims one per round and shares are proportional
 * to weight to within one position.
 * <p>
 * The table is built only over backends that can take new flows and rebuilt when the pool changes
 * (in {@link #refresh()}; a pick after an unrefreshed change rebuilds first). The rebuild reuses
 * arrays sized at construction; only sorting the backends may allocate. A pick is one array read.
 */
public final class MaglevScheduler extends PoolTrackingScheduler
{
    /** Table size used when none is given, the paper's choice. */
    public static final int DEFAULT_TABLE_SIZE = 65_537;

    /** The table must have at least this many positions per backend slot of the pool. */
    public static final int MIN_POSITIONS_PER_BACKEND = 100;

    /** Largest accepted table size (64 MiB of ints). */
    public static final int MAX_TABLE_SIZE = 1 << 24;

    private static final long OFFSET_SEED = 0x5851_F42D_4C95_7F2DL;
    private static final long SKIP_SEED = 0x1405_7B7E_F767_814FL;

    private final int tableSize;
    private final int[] table;
    private final long[] sortKeys;
    private final int[] handles;
    private final int[] weights;
    private final int[] positions;
    private final int[] skips;
    private final int[] claimed;

    /**
     * A scheduler with a table of {@link #defaultTableSize(int)} positions for the pool's capacity.
     *
     * @param pool the backends to pick from.
     */
    public MaglevScheduler(final BackendPool pool)
    {
        this(pool, defaultTableSize(pool.capacity()));
    }

    /**
     * @param pool      the backends to pick from.
     * @param tableSize a prime, at least {@link #MIN_POSITIONS_PER_BACKEND} x pool capacity and at
     *                  most {@link #MAX_TABLE_SIZE}.
     * @throws IllegalArgumentException if tableSize is not prime or out of range.
     */
    public MaglevScheduler(final BackendPool pool, final int tableSize)
    {
        super(pool);
        final long minimum = (long)MIN_POSITIONS_PER_BACKEND * pool.capacity();
        if (tableSize < minimum || tableSize > MAX_TABLE_SIZE)
        {
            throw new IllegalArgumentException("Maglev table size must be at least " + MIN_POSITIONS_PER_BACKEND +
                " x pool capacity (" + minimum + ") and at most " + MAX_TABLE_SIZE + ": " + tableSize);
        }
        if (!isPrime(tableSize))
        {
            throw new IllegalArgumentException("Maglev table size must be prime: " + tableSize);
        }

        this.tableSize = tableSize;
        table = new int[tableSize];
        final int capacity = pool.capacity();
        sortKeys = new long[capacity];
        handles = new int[capacity];
        weights = new int[capacity];
        positions = new int[capacity];
        skips = new int[capacity];
        claimed = new int[capacity];
        refresh();
    }

    /**
     * The table size used for a pool: {@link #DEFAULT_TABLE_SIZE}, or the smallest prime of at
     * least {@link #MIN_POSITIONS_PER_BACKEND} x capacity if that is larger.
     *
     * @param poolCapacity the pool's number of slots.
     * @return a prime table size.
     */
    public static int defaultTableSize(final int poolCapacity)
    {
        final long minimum = (long)MIN_POSITIONS_PER_BACKEND * poolCapacity;
        return minimum <= DEFAULT_TABLE_SIZE ? DEFAULT_TABLE_SIZE : smallestPrimeAtLeast((int)minimum);
    }

    /**
     * @param n a lower bound, at least 2.
     * @return the smallest prime &gt;= n.
     */
    public static int smallestPrimeAtLeast(final int n)
    {
        int candidate = Math.max(2, n);
        while (!isPrime(candidate))
        {
            candidate++;
        }
        return candidate;
    }

    /**
     * Trial division; table sizes are small enough for it.
     *
     * @param n any int.
     * @return true if n is prime.
     */
    public static boolean isPrime(final int n)
    {
        if (n < 2)
        {
            return false;
        }
        if (n % 2 == 0)
        {
            return n == 2;
        }
        for (int divisor = 3; (long)divisor * divisor <= n; divisor += 2)
        {
            if (n % divisor == 0)
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @return the number of positions in the lookup table (M).
     */
    public int tableSize()
    {
        return tableSize;
    }

    /**
     * The backend at a table position, for inspection and tests.
     *
     * @param position 0..M - 1.
     * @return a handle, or {@link #NO_BACKEND} if no backend can take new flows.
     */
    public int tableEntry(final int position)
    {
        refresh();
        return table[position];
    }

    /**
     * {@inheritDoc}
     */
    public int pick(final int clientIp, final int flowHash)
    {
        refresh();
        return table[Integer.remainderUnsigned(flowHash, tableSize)];
    }

    /**
     * {@inheritDoc}
     */
    public SchedulerKind kind()
    {
        return SchedulerKind.MAGLEV;
    }

    void onPoolChanged()
    {
        final int[] table = this.table;
        Arrays.fill(table, NO_BACKEND);
        final int count = pool.eligibleCount();
        if (count == 0)
        {
            return;
        }

        sortByAddress(count);

        int maxWeight = 0;
        for (int i = 0; i < count; i++)
        {
            final int handle = handles[i];
            final long key = addressKey(pool.ip(handle), pool.port(handle));
            positions[i] = (int)Long.remainderUnsigned(mix64(key ^ OFFSET_SEED), tableSize);
            skips[i] = (int)Long.remainderUnsigned(mix64(key ^ SKIP_SEED), tableSize - 1) + 1;
            weights[i] = pool.weight(handle);
            claimed[i] = 0;
            maxWeight = Math.max(maxWeight, weights[i]);
        }

        int filled = 0;
        for (long round = 1; ; round++)
        {
            for (int i = 0; i < count; i++)
            {
                if ((long)claimed[i] * maxWeight >= round * weights[i])
                {
                    continue;
                }

                // The skip is coprime with the prime M, so the preference list visits every position.
                int position = positions[i];
                while (table[position] != NO_BACKEND)
                {
                    position += skips[i];
                    if (position >= tableSize)
                    {
                        position -= tableSize;
                    }
                }
                table[position] = handles[i];
                claimed[i]++;
                positions[i] = position;

                if (++filled == tableSize)
                {
                    return;
                }
            }
        }
    }

    /**
     * Orders the eligible backends by (ip, port) so the table depends on the backend set only.
     */
    private void sortByAddress(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            final int handle = pool.eligibleHandle(i);
            // ip unsigned, then port, then slot; the sign flip makes signed order unsigned order.
            final long key = addressKey(pool.ip(handle), pool.port(handle)) << BackendPool.SLOT_BITS;
            sortKeys[i] = (key | BackendPool.slotOf(handle)) ^ Long.MIN_VALUE;
        }
        Arrays.sort(sortKeys, 0, count);
        for (int i = 0; i < count; i++)
        {
            final int slot = (int)(sortKeys[i] & (BackendPool.MAX_CAPACITY - 1));
            handles[i] = pool.handleAt(slot);
        }
    }

    private static long addressKey(final int ip, final int port)
    {
        return (ip & 0xFFFF_FFFFL) << 16 | port;
    }

    /**
     * SplitMix64's finaliser.
     */
    private static long mix64(final long value)
    {
        long z = value;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }
}
