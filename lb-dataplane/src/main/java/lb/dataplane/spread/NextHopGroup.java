package lb.dataplane.spread;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The next hops of one route and the picks a router makes among them: per packet (round robin),
 * per new flow at random, by a resilient hash of the flow, or to the hop with the fewest active
 * flows. Only usable hops are picked: up by ARP probe with a known MAC.
 * <p>
 * The hash pick goes through a table of {@link #BUCKETS} buckets, each naming a hop (what Linux
 * calls a resilient next-hop group): when a hop leaves, only its buckets are handed to the others
 * (to the ones with the fewest buckets, so the shares stay within one bucket of even), and when a
 * hop comes back it takes buckets only from hops above their share. A flow's hop therefore
 * changes only when its own bucket changed hands.
 * <p>
 * Single writer (the worker that forwards the route). The per-hop counters and usability are
 * published with ordered stores (one writer, no read-modify-write of shared lines), so the control
 * thread reads them live, each field whole. Nothing is allocated after construction.
 */
public final class NextHopGroup
{
    /** Most next hops in one group. */
    public static final int MAX_HOPS = 16;
    /** No usable next hop. */
    public static final int NO_HOP = -1;
    /** Buckets of the resilient hash table: 256 per hop at the maximum of 16. */
    public static final int BUCKETS = 4096;
    private static final int BUCKET_SHIFT = Integer.SIZE - Integer.numberOfTrailingZeros(BUCKETS);

    private final int[] address = new int[MAX_HOPS];
    private final long[] mac = new long[MAX_HOPS];
    private final boolean[] usable = new boolean[MAX_HOPS];
    /** Removed by the operator: never usable, whatever the probes say, until added again. */
    private final boolean[] retired = new boolean[MAX_HOPS];
    private final long[] activeFlows = new long[MAX_HOPS];
    /** For other threads: what {@link #usable} and {@link #activeFlows} hold, and the traffic per hop. */
    private final AtomicLongArray publishedUsable = new AtomicLongArray(MAX_HOPS);
    private final AtomicLongArray publishedActive = new AtomicLongArray(MAX_HOPS);
    private final AtomicLongArray packets = new AtomicLongArray(MAX_HOPS);
    private final AtomicLongArray bytes = new AtomicLongArray(MAX_HOPS);
    private final int[] bucketsOf = new int[MAX_HOPS];
    private final int[] bucketHop = new int[BUCKETS];
    /** The hop that last took each bucket as its share: a hop that comes back takes its own buckets first. */
    private final int[] bucketHome = new int[BUCKETS];
    private int hops;
    private int usableCount;
    private int cursor;
    private long random;

    /** @param seed of the random picks (per worker, so workers do not pick in step). */
    public NextHopGroup(final long seed)
    {
        this.random = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
        Arrays.fill(bucketHop, NO_HOP);
        Arrays.fill(bucketHome, NO_HOP);
    }

    /**
     * Adds a next hop, not usable until {@link #setUsable}. A retired hop added again gets its old
     * index back (and, by the bucket homes, its old share of the hash).
     *
     * @return its index, or {@link #NO_HOP} when the group is full or holds the address already.
     */
    public int add(final int nextHopAddress)
    {
        final int known = indexOf(nextHopAddress);
        if (known != NO_HOP)
        {
            if (!retired[known])
            {
                return NO_HOP;
            }
            retired[known] = false;
            return known;
        }
        if (hops == MAX_HOPS)
        {
            return NO_HOP;
        }
        address[hops] = nextHopAddress;
        return hops++;
    }

    /**
     * Removes a next hop for good (until added again): it stops being usable, as if its probe
     * failed, and probe results no longer bring it back. Its index stays taken.
     *
     * @return whether usability changed (the hop's flows must move).
     */
    public boolean retire(final int hop)
    {
        retired[hop] = true;
        return setUsable(hop, false, 0);
    }

    /** @return whether the hop was removed by {@link #retire}. */
    public boolean retired(final int hop)
    {
        return retired[hop];
    }

    /** @return next hops configured, usable or not. */
    public int size()
    {
        return hops;
    }

    /** @return the index of the hop with this address, or {@link #NO_HOP}. */
    public int indexOf(final int nextHopAddress)
    {
        for (int i = 0; i < hops; i++)
        {
            if (address[i] == nextHopAddress)
            {
                return i;
            }
        }
        return NO_HOP;
    }

    /**
     * A probe result: the hop is usable with this MAC, or not usable. A change hands the hash
     * buckets over as the class comment says.
     *
     * @return whether usability changed.
     */
    public boolean setUsable(final int hop, final boolean up, final long hopMac)
    {
        final boolean now = up && hopMac != 0 && !retired[hop];
        mac[hop] = now ? hopMac : mac[hop];
        if (usable[hop] == now)
        {
            return false;
        }
        usable[hop] = now;
        publishedUsable.lazySet(hop, now ? 1 : 0);
        if (now)
        {
            usableCount++;
            takeShare(hop);
        }
        else
        {
            usableCount--;
            giveAway(hop);
        }
        return true;
    }

    /** A hop that left: each of its buckets goes to the usable hop with the fewest buckets. */
    private void giveAway(final int hop)
    {
        for (int b = 0; b < BUCKETS; b++)
        {
            if (bucketHop[b] == hop)
            {
                bucketsOf[hop]--;
                final int to = fewestBuckets();
                bucketHop[b] = to;
                if (to != NO_HOP)
                {
                    bucketsOf[to]++;
                }
            }
        }
    }

    /**
     * A hop that came: up to its share it takes unowned buckets, then its own old buckets (so a
     * hop that flapped gets back the very flows it had), then any bucket of a hop above its share.
     */
    private void takeShare(final int hop)
    {
        final int share = BUCKETS / usableCount;
        for (int pass = 0; pass < 3; pass++)
        {
            for (int b = 0; b < BUCKETS && bucketsOf[hop] < share; b++)
            {
                final int owner = bucketHop[b];
                final boolean spare = owner != hop && owner != NO_HOP && bucketsOf[owner] > share;
                final boolean take = pass == 0 ? owner == NO_HOP : spare && (pass == 2 || bucketHome[b] == hop);
                if (take)
                {
                    if (owner != NO_HOP)
                    {
                        bucketsOf[owner]--;
                    }
                    bucketHop[b] = hop;
                    bucketHome[b] = hop;
                    bucketsOf[hop]++;
                }
            }
        }
        // Buckets still unowned (the first hop to come up takes them all).
        for (int b = 0; b < BUCKETS; b++)
        {
            if (bucketHop[b] == NO_HOP)
            {
                bucketHop[b] = hop;
                bucketHome[b] = hop;
                bucketsOf[hop]++;
            }
        }
    }

    private int fewestBuckets()
    {
        int best = NO_HOP;
        for (int i = 0; i < hops; i++)
        {
            if (usable[i] && (best == NO_HOP || bucketsOf[i] < bucketsOf[best]))
            {
                best = i;
            }
        }
        return best;
    }

    /** @return usable next hops. */
    public int usableCount()
    {
        return usableCount;
    }

    public boolean usable(final int hop)
    {
        return usable[hop];
    }

    public int address(final int hop)
    {
        return address[hop];
    }

    public long mac(final int hop)
    {
        return mac[hop];
    }

    /** @return strict round robin over the usable hops, or {@link #NO_HOP}. */
    public int pickPacket()
    {
        if (usableCount == 0)
        {
            return NO_HOP;
        }
        for (int tries = 0; tries < hops; tries++)
        {
            final int hop = cursor;
            cursor = cursor + 1 == hops ? 0 : cursor + 1;
            if (usable[hop])
            {
                return hop;
            }
        }
        return NO_HOP;
    }

    /** @return a usable hop chosen uniformly at random, or {@link #NO_HOP}. */
    public int pickRandom()
    {
        if (usableCount == 0)
        {
            return NO_HOP;
        }
        // xorshift64*
        random ^= random >>> 12;
        random ^= random << 25;
        random ^= random >>> 27;
        int n = (int)(((random * 0x2545F4914F6CDD1DL) >>> 33) % usableCount);
        for (int i = 0; i < hops; i++)
        {
            if (usable[i] && n-- == 0)
            {
                return i;
            }
        }
        return NO_HOP;
    }

    /** @return the hop the flow's hash names through the bucket table, or {@link #NO_HOP}. */
    public int pickHash(final int flowHash)
    {
        return usableCount == 0 ? NO_HOP : bucketHop[bucketOf(flowHash)];
    }

    /** @return the bucket a flow hash falls in (the hash is mixed first: 5-tuple hashes are often weak in the low bits). */
    public static int bucketOf(final int flowHash)
    {
        return (flowHash * 0x9E3779B1) >>> BUCKET_SHIFT;
    }

    /**
     * @return the usable hop with the fewest active flows, ties taken in turn (so equal hops
     *     fill evenly), or {@link #NO_HOP}.
     */
    public int pickLeast()
    {
        int best = NO_HOP;
        for (int k = 0; k < hops; k++)
        {
            final int i = (cursor + k) % hops;
            if (usable[i] && (best == NO_HOP || activeFlows[i] < activeFlows[best]))
            {
                best = i;
            }
        }
        if (best != NO_HOP)
        {
            cursor = best + 1 == hops ? 0 : best + 1;
        }
        return best;
    }

    /** @return the usable hop with the most active flows (lowest index on ties), or {@link #NO_HOP}. */
    public int fullest()
    {
        return extreme(true);
    }

    /** @return the usable hop with the fewest active flows (lowest index on ties), or {@link #NO_HOP}. */
    public int emptiest()
    {
        return extreme(false);
    }

    private int extreme(final boolean most)
    {
        int best = NO_HOP;
        for (int i = 0; i < hops; i++)
        {
            if (usable[i] && (best == NO_HOP || (most ? activeFlows[i] > activeFlows[best] : activeFlows[i] < activeFlows[best])))
            {
                best = i;
            }
        }
        return best;
    }

    /** Counts one forwarded packet on a hop. */
    public void countPacket(final int hop, final int length)
    {
        packets.lazySet(hop, packets.get(hop) + 1);
        bytes.lazySet(hop, bytes.get(hop) + length);
    }

    void flowAdded(final int hop)
    {
        publishedActive.lazySet(hop, ++activeFlows[hop]);
    }

    void flowRemoved(final int hop)
    {
        publishedActive.lazySet(hop, --activeFlows[hop]);
    }

    public long activeFlows(final int hop)
    {
        return activeFlows[hop];
    }

    public long packets(final int hop)
    {
        return packets.get(hop);
    }

    public long bytes(final int hop)
    {
        return bytes.get(hop);
    }

    /** @return active flows on the hop, for other threads. */
    public long publishedActiveFlows(final int hop)
    {
        return publishedActive.get(hop);
    }

    /** @return the hop is usable, for other threads. */
    public boolean publishedUsable(final int hop)
    {
        return publishedUsable.get(hop) != 0;
    }

    /** @return buckets the hop owns in the hash table (0 while not usable). */
    public int buckets(final int hop)
    {
        return bucketsOf[hop];
    }
}
