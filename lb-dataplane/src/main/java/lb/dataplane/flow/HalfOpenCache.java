package lb.dataplane.flow;

/**
 * Where the half-open flows a full {@link FlowTable} evicted are remembered for a while: the
 * forward key and the backend it was given, in sets of {@link #WAYS} picked by the key's hash, the
 * oldest of a set giving way to a newer key. Set-associative rather than direct-mapped so that a
 * key's life is close to slots / eviction rate for every key: direct-mapped, a quarter of the keys
 * were overwritten by a colliding one within a third of that (SynFloodTest's slow handshakes).
 * <p>
 * Why: under a SYN flood a half-open entry lives about table size / flood rate (100 ms for 4,096
 * flows at 40,960 SYNs a second), and a real client whose handshake through lb takes longer (lb
 * or the backend busy, a long path) would see its ACK find no entry and its connection hang. Here
 * the key lives about slots / flood rate (1.6 s for the default 65,536 slots at that rate), and the
 * ACK that finds it takes the flow back to the backend that answered its SYN. The flood's own SYNs
 * pass through too, but they are never followed by an ACK, so they only age out. Like BSD's SYN
 * cache beside its connection table, with no state kept about the TCP handshake itself: lb does not
 * terminate TCP.
 * <p>
 * Keys are the flow table's own two key words. On-heap arrays allocated once; {@link #remember} and
 * {@link #take} do not allocate. One thread.
 * <p>
 * <b>IPv6.</b> An IPv6 flow table's address word is a 64-bit fold of the two addresses, and keys can be crafted
 * whose folds collide (see {@link FlowTable#hash6}): keyed on the two words alone, one client's ACK could take
 * another's remembered backend and make the victim's handshake hang. So IPv6 flows use a cache of their own made by
 * {@link #ipv6(int)}, through {@link #remember6} and {@link #take6}, which also keeps and compares the 32 bytes of
 * addresses (4 more longs per slot, 2 MiB more at the default size). An IPv4 cache has no address arrays; the
 * {@code 6} methods are for IPv6 caches only.
 */
public final class HalfOpenCache
{
    /** Returned by {@link #take} when the key is not remembered. */
    public static final int NONE = -1;

    /** Default slots: 65,536, 1.5 MiB. */
    public static final int DEFAULT_SLOTS = 1 << 16;

    /** Slots a key may take: its set. */
    public static final int WAYS = 8;

    private final long[] addresses;
    /** IPv6 caches only (else null): per slot the source (high, low) and destination (high, low) addresses. */
    private final long[] addresses6;
    private final long[] ports;
    private final int[] services;
    private final int[] backends;
    /** Per set, the way the next key takes: round robin, so the oldest goes. */
    private final byte[] nextWay;
    private final int setMask;
    /** Whether anything was ever remembered: until a table fills, {@link #take} costs one branch. */
    private boolean used;

    /** @param slots a power of two, at least {@link #WAYS}. */
    public HalfOpenCache(final int slots)
    {
        this(slots, false);
    }

    /**
     * A cache for IPv6 flows, used through {@link #remember6} and {@link #take6}.
     *
     * @param slots a power of two, at least {@link #WAYS}.
     * @return the empty cache.
     */
    public static HalfOpenCache ipv6(final int slots)
    {
        return new HalfOpenCache(slots, true);
    }

    private HalfOpenCache(final int slots, final boolean ipv6)
    {
        if (slots < WAYS || Integer.bitCount(slots) != 1)
        {
            throw new IllegalArgumentException("slots must be a power of two of at least " + WAYS + ", got " + slots);
        }
        addresses = new long[slots];
        addresses6 = ipv6 ? new long[slots * 4] : null;
        ports = new long[slots];
        services = new int[slots];
        backends = new int[slots];
        nextWay = new byte[slots / WAYS];
        setMask = slots / WAYS - 1;
    }

    /** Remembers that the flow with this forward key, of this service, went to this backend. */
    public void remember(final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int protocol,
        final int serviceId, final int backend)
    {
        rememberKey(FlowTable.addressWord(srcIp, dstIp), FlowTable.portsWord(srcPort, dstPort, protocol),
            0, 0, 0, 0, serviceId, backend);
    }

    /** IPv6 {@link #remember}, for a cache made by {@link #ipv6(int)}. */
    public void remember6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol, final int serviceId, final int backend)
    {
        rememberKey(FlowTable.fold6(srcHigh, srcLow, dstHigh, dstLow), FlowTable.portsWord(srcPort, dstPort, protocol),
            srcHigh, srcLow, dstHigh, dstLow, serviceId, backend);
    }

    /**
     * The backend a remembered flow of this service went to, forgotten as it is returned, or {@link #NONE}.
     */
    public int take(final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int protocol,
        final int serviceId)
    {
        return used ? takeKey(FlowTable.addressWord(srcIp, dstIp), FlowTable.portsWord(srcPort, dstPort, protocol),
            0, 0, 0, 0, serviceId) : NONE;
    }

    /** IPv6 {@link #take}, for a cache made by {@link #ipv6(int)}. */
    public int take6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol, final int serviceId)
    {
        return used ? takeKey(FlowTable.fold6(srcHigh, srcLow, dstHigh, dstLow),
            FlowTable.portsWord(srcPort, dstPort, protocol), srcHigh, srcLow, dstHigh, dstLow, serviceId) : NONE;
    }

    /** A key as the flow table's two words and, in an IPv6 cache, its addresses (zeros in an IPv4 one). */
    private void rememberKey(final long addressWord, final long portsWord,
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int serviceId, final int backend)
    {
        used = true;
        final int set = FlowTable.hashWords(addressWord, portsWord) & setMask;
        // The same key again (a retransmitted SYN's flow, evicted too) replaces its older backend.
        int slot = find(set * WAYS, addressWord, portsWord, srcHigh, srcLow, dstHigh, dstLow, serviceId);
        if (slot < 0)
        {
            final int way = nextWay[set];
            nextWay[set] = (byte)((way + 1) & (WAYS - 1));
            slot = set * WAYS + way;
        }
        addresses[slot] = addressWord;
        ports[slot] = portsWord;
        services[slot] = serviceId;
        backends[slot] = backend;
        if (null != addresses6)
        {
            final int index = slot * 4;
            addresses6[index] = srcHigh;
            addresses6[index + 1] = srcLow;
            addresses6[index + 2] = dstHigh;
            addresses6[index + 3] = dstLow;
        }
    }

    private int takeKey(final long addressWord, final long portsWord,
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int serviceId)
    {
        final int slot = find((FlowTable.hashWords(addressWord, portsWord) & setMask) * WAYS,
            addressWord, portsWord, srcHigh, srcLow, dstHigh, dstLow, serviceId);
        if (slot < 0)
        {
            return NONE;
        }
        ports[slot] = 0;
        return backends[slot];
    }

    /** The slot of the set starting at {@code first} that holds the key, or -1. */
    private int find(final int first, final long addressWord, final long portsWord,
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int serviceId)
    {
        for (int slot = first; slot < first + WAYS; slot++)
        {
            if (ports[slot] == portsWord && addresses[slot] == addressWord && services[slot] == serviceId &&
                (null == addresses6 || (addresses6[slot * 4] == srcHigh && addresses6[slot * 4 + 1] == srcLow &&
                addresses6[slot * 4 + 2] == dstHigh && addresses6[slot * 4 + 3] == dstLow)))
            {
                return slot;
            }
        }
        return -1;
    }
}
