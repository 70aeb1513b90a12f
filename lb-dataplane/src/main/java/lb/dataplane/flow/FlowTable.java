package lb.dataplane.flow;

import java.nio.ByteOrder;
import java.util.function.LongFunction;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;


/**
 * Off-heap table of NAT flow entries keyed by the IPv4 5-tuple, or, made by {@link #ipv6}, by the IPv6 5-tuple;
 * owned and used by one thread.
 * <p>
 * All entries live in one region allocated at construction: an array of 64-byte slots, one cache line each, starting
 * on a 64-byte boundary. There is no Java object per flow; a flow is addressed by its slot index. Multi-byte fields
 * are little-endian (the host order on x86_64), so the key can be compared as two longs.
 *
 * <h2>Slot layout</h2>
 * <table>
 * <caption>One 64-byte slot</caption>
 * <tr><th>offset</th><th>bytes</th><th>field</th><th>constant</th></tr>
 * <tr><td>0</td><td>4</td><td>source IPv4 address (key)</td><td>{@link #SRC_IP_OFFSET}</td></tr>
 * <tr><td>4</td><td>4</td><td>destination IPv4 address (key)</td><td>{@link #DST_IP_OFFSET}</td></tr>
 * <tr><td>8</td><td>2</td><td>source port (key)</td><td>{@link #SRC_PORT_OFFSET}</td></tr>
 * <tr><td>10</td><td>2</td><td>destination port (key)</td><td>{@link #DST_PORT_OFFSET}</td></tr>
 * <tr><td>12</td><td>1</td><td>IP protocol (key)</td><td>{@link #PROTOCOL_OFFSET}</td></tr>
 * <tr><td>13</td><td>1</td><td>flags: bit 0 slot in use, bit 1 return direction, bit 2 FIN seen in this direction, bit 3 one-way flow (no return entry)</td><td>{@link #FLAGS_OFFSET}</td></tr>
 * <tr><td>14</td><td>1</td><td>TCP state ({@link #TCP_NONE} .. {@link #TCP_CLOSING})</td>
 *     <td>{@link #TCP_STATE_OFFSET}</td></tr>
 * <tr><td>15</td><td>1</td><td>displacement: slots from the key's home slot, 0..31</td>
 *     <td>{@link #DISPLACEMENT_OFFSET}</td></tr>
 * <tr><td>16</td><td>4</td><td>service id</td><td>{@link #SERVICE_ID_OFFSET}</td></tr>
 * <tr><td>20</td><td>4</td><td>backend id (opaque handle from the scheduler)</td>
 *     <td>{@link #BACKEND_ID_OFFSET}</td></tr>
 * <tr><td>24</td><td>4</td><td>NAT IPv4 address</td><td>{@link #NAT_IP_OFFSET}</td></tr>
 * <tr><td>28</td><td>2</td><td>NAT port</td><td>{@link #NAT_PORT_OFFSET}</td></tr>
 * <tr><td>30</td><td>2</td><td>reserved, zero</td><td></td></tr>
 * <tr><td>32</td><td>8</td><td>last seen, {@code System.nanoTime()} scale</td><td>{@link #LAST_SEEN_OFFSET}</td></tr>
 * <tr><td>40</td><td>8</td><td>packets</td><td>{@link #PACKETS_OFFSET}</td></tr>
 * <tr><td>48</td><td>8</td><td>bytes</td><td>{@link #BYTES_OFFSET}</td></tr>
 * <tr><td>56</td><td>8</td><td>peer MAC (client or next hop), low 48 bits</td><td>{@link #PEER_MAC_OFFSET}</td></tr>
 * </table>
 *
 * <h2>IPv6 tables</h2>
 * {@link #ipv6} makes a table of {@link #IPV6_SLOT_LENGTH}-byte slots (two cache lines, the region 128-byte aligned)
 * for IPv6 flows, used through {@link #find6}, {@link #insert6}, {@link #remove6} and {@link #prefetch6}. Bytes 0..63
 * are the layout above, except that the address word (bytes 0..7) holds {@link #fold6 a 64-bit fold} of the two
 * addresses (see {@link #hash6}) and the NAT IPv4 address holds an alias (the backend's on a forward entry, the VIP's
 * on a return entry); bytes 64..95 hold the source address (high, low) and the destination address (high, low) at
 * {@link #SRC_HIGH_OFFSET}..{@link #DST_LOW_OFFSET}; 96..127 are reserved, zero. Probing compares the fold and the
 * ports word as in an IPv4 table and, on a match, the 32 bytes of addresses, so keys whose folds collide are still
 * told apart. Everything that only reads or moves slots (Robin Hood order, eviction, expiry, touch, the accessors of
 * the first 64 bytes, {@link #removeAt}) works unchanged. The IPv4 methods {@code find}, {@code insert}, {@code remove}
 * and {@code prefetch} are for IPv4 tables and the {@code 6} methods for IPv6 tables; mixed, they find nothing useful
 * (but never fail). The IPv4 path pays one predictable branch on a final field, in the probe's match.
 * <p>
 * An IPv6 table of capacity {@code c} takes {@code 128 * (ceil(4c / 3) + 32)} bytes, about 170.7 bytes per flow: the
 * default 262,144 flows (see {@code flow-table-size6}) take 349,558 slots, 44,743,424 bytes (42.7 MiB).
 *
 * <h2>Size</h2>
 * A table of capacity {@code c} has {@code h = ceil(4c / 3)} home slots, so the load stays at or under 0.75 when full,
 * plus {@link #PROBE_WINDOW} overflow slots at the end so that probing never wraps:
 * {@code 64 * (ceil(4c / 3) + 32)} bytes, about 85.3 bytes per flow, plus at most 64 bytes of alignment slack.
 * The default-sized table of 1,048,576 flows has 1,398,134 slots in 89,480,576 bytes (85.3 MiB).
 *
 * <h2>Probing</h2>
 * Open addressing with linear probing. A key's home slot is its 32-bit {@link #hash(int, int, int, int, int)} mapped
 * onto {@code [0, h)} by multiply-shift, so {@code h} need not be a power of two. A key is only ever stored within
 * {@link #PROBE_WINDOW} slots of its home (its displacement, kept in the slot, is below the window), so a lookup
 * reads at most that many slots.
 * <p>
 * Insertion keeps each run of occupied slots ordered by home slot (Robin Hood order): a new key goes after the
 * entries whose home is at or before its own and the rest of the run moves up one slot. The slots in use are the
 * same as with plain first-free-slot probing, but displacements stay short: plain probing with a 32-slot window
 * started refusing random keys at about half load, while in this order the largest displacement in full tables of
 * 1M and 4M random keys was 21 to 25 slots (mean 1.5). A lookup stops at an empty slot or at an entry closer to its
 * home than the key would be.
 * Removal shifts the rest of the run back one slot (no tombstones), so the table never degrades under churn.
 * <p>
 * A key does not fit, and the {@link FullPolicy} applies, when the table holds {@link #capacity()} entries, when the
 * key or an entry it moves up would leave its probe window, or when it would move more than {@link #MAX_SHIFT}
 * entries (a bound on the work of one insert, only reachable with keys crafted against the public hash).
 *
 * <h2>Slot indexes</h2>
 * Methods that take or return an {@code int slot} address an entry directly. A slot index is valid until the next
 * insert or remove on the table (including removals made by {@link #expire(long, int, FlowExpiry)}): both may move
 * entries. Accessors do not check that the slot is in use.
 *
 * <h2>Threading and allocation</h2>
 * Not thread safe: one thread owns the table. Counters are plain fields. {@code find}, {@code insert}, {@code touch},
 * {@code remove} and {@code expire} do not allocate, lock or throw.
 */
public final class FlowTable
{
    /** Returned by lookups when the key is not in the table. */
    public static final int MISSING = -1;

    /** Returned by {@link #insert(int, int, int, int, int, long)} when the table has no room for the key. */
    public static final int FULL = -2;

    /** How many slots from its home slot a key may live; a lookup reads at most this many slots. */
    public static final int PROBE_WINDOW = 32;

    /** Most entries one insert may move up a slot; beyond it the key does not fit. Far above what random keys need. */
    public static final int MAX_SHIFT = 512;

    /** Largest capacity: the region must stay under 2 GiB because buffer indexes are {@code int}. */
    public static final int MAX_CAPACITY = 25_000_000;

    /** Bytes per slot of an IPv4 table: one cache line. */
    public static final int SLOT_LENGTH = 64;

    /** Bytes per slot of an IPv6 table ({@link #ipv6}): two cache lines, the IPv4 layout and then the addresses. */
    public static final int IPV6_SLOT_LENGTH = 128;

    /** Largest capacity of an IPv6 table: its 128-byte slots must also stay under 2 GiB. */
    public static final int IPV6_MAX_CAPACITY = 12_500_000;

    /** Alignment of the region, bytes. */
    public static final int ALIGNMENT = 64;

    /** TCP state of a flow that is not TCP (or whose state has not been set). Uses the UDP timeout. */
    public static final int TCP_NONE = 0;

    /** TCP state: a SYN has been seen, the handshake has not completed. */
    public static final int TCP_SYN_SEEN = 1;

    /** TCP state: the handshake has completed. */
    public static final int TCP_ESTABLISHED = 2;

    /** TCP state: a FIN or RST has been seen. */
    public static final int TCP_CLOSING = 3;

    /** Default idle timeout for {@link #TCP_SYN_SEEN}: 30 s. */
    public static final long DEFAULT_SYN_TIMEOUT_NANOS = 30_000_000_000L;

    /** Default idle timeout for {@link #TCP_ESTABLISHED}: 300 s. */
    public static final long DEFAULT_ESTABLISHED_TIMEOUT_NANOS = 300_000_000_000L;

    /** Default idle timeout for {@link #TCP_CLOSING}: 10 s. */
    public static final long DEFAULT_CLOSING_TIMEOUT_NANOS = 10_000_000_000L;

    /** Default idle timeout for {@link #TCP_NONE} (UDP and anything not TCP): 60 s. */
    public static final long DEFAULT_UDP_TIMEOUT_NANOS = 60_000_000_000L;

    /** Offset of the source IPv4 address, 4 bytes. Also the start of the 8-byte address word of the key. */
    public static final int SRC_IP_OFFSET = 0;

    /** Offset of the destination IPv4 address, 4 bytes. */
    public static final int DST_IP_OFFSET = 4;

    /** Offset of the source port, 2 bytes. Also the start of the 8-byte ports word of the key. */
    public static final int SRC_PORT_OFFSET = 8;

    /** Offset of the destination port, 2 bytes. */
    public static final int DST_PORT_OFFSET = 10;

    /** Offset of the IP protocol number, 1 byte. */
    public static final int PROTOCOL_OFFSET = 12;

    /** Offset of the flags byte: {@link #FLAG_IN_USE} and {@link #FLAG_RETURN_DIRECTION}. */
    public static final int FLAGS_OFFSET = 13;

    /** Offset of the TCP state, 1 byte. */
    public static final int TCP_STATE_OFFSET = 14;

    /** Offset of the displacement, 1 byte: how many slots past its home slot the entry sits. */
    public static final int DISPLACEMENT_OFFSET = 15;

    /** Offset of the service id, 4 bytes. */
    public static final int SERVICE_ID_OFFSET = 16;

    /** Offset of the backend id, 4 bytes. */
    public static final int BACKEND_ID_OFFSET = 20;

    /** Offset of the NAT IPv4 address, 4 bytes. */
    public static final int NAT_IP_OFFSET = 24;

    /** Offset of the NAT port, 2 bytes. */
    public static final int NAT_PORT_OFFSET = 28;

    /** Offset of the last-seen time, 8 bytes. */
    public static final int LAST_SEEN_OFFSET = 32;

    /** Offset of the packet count, 8 bytes. */
    public static final int PACKETS_OFFSET = 40;

    /** Offset of the byte count, 8 bytes. */
    public static final int BYTES_OFFSET = 48;

    /** Offset of the peer MAC address, 8 bytes holding 48 bits. */
    public static final int PEER_MAC_OFFSET = 56;

    /** IPv6 tables only: offset of the high 64 bits of the source address (key), 8 bytes. */
    public static final int SRC_HIGH_OFFSET = 64;

    /** IPv6 tables only: offset of the low 64 bits of the source address (key), 8 bytes. */
    public static final int SRC_LOW_OFFSET = 72;

    /** IPv6 tables only: offset of the high 64 bits of the destination address (key), 8 bytes. */
    public static final int DST_HIGH_OFFSET = 80;

    /** IPv6 tables only: offset of the low 64 bits of the destination address (key), 8 bytes. */
    public static final int DST_LOW_OFFSET = 88;

    /** Flag bit: the slot holds an entry. Part of the key comparison, so an empty slot never matches. */
    public static final int FLAG_IN_USE = 0x01;

    /** Flag bit: the entry is the return direction (backend to client) of a flow. */
    public static final int FLAG_RETURN_DIRECTION = 0x02;

    /** Flag bit: a TCP FIN was seen in this entry's direction (half of a close). */
    public static final int FLAG_FIN_SEEN = 0x04;

    /** Flag bit: the flow has no return entry (DSR, IP-in-IP: the backend answers the client directly). */
    public static final int FLAG_ONE_WAY = 0x08;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    private static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;

    // The ports word (little-endian long at SRC_PORT_OFFSET): source port in bits 0-15, destination port 16-31,
    // protocol 32-39, flags 40-47, TCP state 48-55, displacement 56-63. A key compares bits 0-40: the key fields and
    // the in-use bit. One read of it tells a probe whether the slot is empty, matches, or ends the search.
    private static final long IN_USE_BIT = (long)FLAG_IN_USE << 40;
    private static final long KEY_PORTS_MASK = 0x01FF_FFFF_FFFFL;
    private static final int DISPLACEMENT_SHIFT = 56;

    // Not a secret: the hash is public and stable so the scheduler can use it too.
    private static final long HASH_SEED = 0x9E37_79B9_7F4A_7C15L;
    // The fold of an IPv6 key's addresses hashes each address with its own seed (so swapping source and destination
    // changes the fold) before the two are combined.
    private static final long SRC_FOLD_SEED = 0xD6E8_FEB8_6659_FD93L;
    private static final long DST_FOLD_SEED = 0xA076_1D64_78BD_642FL;
    private static final int IPV4_SLOT_SHIFT = 6;
    private static final int IPV6_SLOT_SHIFT = 7;

    // Encodes "no match, and the key's displacement would reach the window" for probe(); other misses are ~slot
    // where the key would go.
    private static final int NO_ROOM = Integer.MIN_VALUE;
    /** What {@link #insert} picks to evict under {@link FullPolicy#REFUSE}. */
    private static final int NO_VICTIM = Integer.MIN_VALUE;
    /**
     * Slots {@link FullPolicy#EVICT_UNESTABLISHED} looks at past a key's window for something to evict (8 KiB of reads):
     * bounded so that a flood against a table full of established flows costs little per refused SYN.
     */
    private static final int EVICTION_SCAN = 4 * PROBE_WINDOW;

    private final UnsafeBuffer buffer;
    /** Whether slots are {@link #IPV6_SLOT_LENGTH} long and keys include the addresses at 64..95. Never changes. */
    private final boolean ipv6;
    private final int slotShift;
    private final int slotLength;
    private final int capacity;
    private final int homeSlots;
    private final int slotCount;
    private final FullPolicy fullPolicy;
    private final long[] timeoutNanosByState = new long[4];
    private FlowExpiry evictionListener;
    private int size;
    private int expiryCursor;
    private long refusedInserts;
    private long evictions;
    // IPv6 tables only: the addresses of the key being probed, placed or re-located. probe(), holdsKey() and occupy()
    // take the key as its two words plus these, so the IPv4 path keeps its signatures and pays one branch on a
    // final field. Set by each v6 entry point before it probes; eviction and expiry save and restore them around
    // listeners, which may call back into the table.
    private long keySrcHigh;
    private long keySrcLow;
    private long keyDstHigh;
    private long keyDstLow;

    /**
     * A table for up to {@code capacity} flows that refuses inserts when full.
     *
     * @param capacity maximum number of entries, 1 to {@link #MAX_CAPACITY}.
     * @throws IllegalArgumentException if the capacity is out of range.
     */
    public FlowTable(final int capacity)
    {
        this(capacity, FullPolicy.REFUSE);
    }

    /**
     * A table for up to {@code capacity} flows.
     *
     * @param capacity   maximum number of entries, 1 to {@link #MAX_CAPACITY}.
     * @param fullPolicy what to do when a new key does not fit.
     * @throws IllegalArgumentException if the capacity is out of range or the policy is null.
     */
    public FlowTable(final int capacity, final FullPolicy fullPolicy)
    {
        this(capacity, fullPolicy, null);
    }

    /**
     * A table for up to {@code capacity} flows in memory from {@code allocator} (for example
     * memory backed by huge pages), which must return zeroed, 64-byte aligned memory of the size
     * asked, or null to fall back to a plain direct buffer.
     *
     * @param capacity   maximum number of entries, 1 to {@link #MAX_CAPACITY}.
     * @param fullPolicy what to do when a new key does not fit.
     * @param allocator  bytes to memory, or null for a plain direct buffer.
     */
    public FlowTable(final int capacity, final FullPolicy fullPolicy,
        final LongFunction<UnsafeBuffer> allocator)
    {
        this(false, capacity, fullPolicy, allocator);
    }

    /**
     * An IPv6 table for up to {@code capacity} flows: {@link #IPV6_SLOT_LENGTH}-byte slots keyed by the full 128-bit
     * addresses, used through {@link #find6}, {@link #insert6}, {@link #remove6} and {@link #prefetch6}. Every other
     * method (accessors of the first 64 bytes, touch, expiry, eviction) works as on an IPv4 table.
     *
     * @param capacity   maximum number of entries, 1 to {@link #IPV6_MAX_CAPACITY}.
     * @param fullPolicy what to do when a new key does not fit.
     * @param allocator  bytes to memory (zeroed, 64-byte aligned), or null for a plain direct buffer.
     * @return the empty table.
     * @throws IllegalArgumentException if the capacity is out of range or the policy is null.
     */
    public static FlowTable ipv6(final int capacity, final FullPolicy fullPolicy,
        final LongFunction<UnsafeBuffer> allocator)
    {
        return new FlowTable(true, capacity, fullPolicy, allocator);
    }

    private FlowTable(final boolean ipv6, final int capacity, final FullPolicy fullPolicy,
        final LongFunction<UnsafeBuffer> allocator)
    {
        final int maxCapacity = ipv6 ? IPV6_MAX_CAPACITY : MAX_CAPACITY;
        if (capacity < 1 || capacity > maxCapacity)
        {
            throw new IllegalArgumentException("capacity must be 1.." + maxCapacity + ": " + capacity);
        }
        if (null == fullPolicy)
        {
            throw new IllegalArgumentException("fullPolicy must not be null");
        }

        this.ipv6 = ipv6;
        this.slotShift = ipv6 ? IPV6_SLOT_SHIFT : IPV4_SLOT_SHIFT;
        this.slotLength = 1 << slotShift;
        this.capacity = capacity;
        this.fullPolicy = fullPolicy;
        this.homeSlots = (int)((capacity * 4L + 2) / 3);
        this.slotCount = homeSlots + PROBE_WINDOW;
        final UnsafeBuffer given = allocator == null ? null : allocator.apply((long)slotCount * slotLength);
        this.buffer = given != null ? given :
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(slotCount * slotLength, Math.max(ALIGNMENT, slotLength)));
        setTimeouts(
            DEFAULT_SYN_TIMEOUT_NANOS,
            DEFAULT_ESTABLISHED_TIMEOUT_NANOS,
            DEFAULT_CLOSING_TIMEOUT_NANOS,
            DEFAULT_UDP_TIMEOUT_NANOS);
    }

    /**
     * The flow hash of a 5-tuple: murmur3's fmix64 over the key packed into two longs. Stable across runs and
     * processes.
     *
     * @param srcIp    source IPv4 address.
     * @param dstIp    destination IPv4 address.
     * @param srcPort  source port, 0..65535.
     * @param dstPort  destination port, 0..65535.
     * @param protocol IP protocol number, 0..255.
     * @return a well-mixed 32-bit hash.
     */
    public static int hash(final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int protocol)
    {
        return hashWords(addressWord(srcIp, dstIp), portsWord(srcPort, dstPort, protocol));
    }

    /**
     * The flow hash of an IPv6 5-tuple: {@link #hash(int, int, int, int, int)}'s construction with the address word
     * replaced by the 64-bit fold of the two addresses that an IPv6 slot keeps at {@link #SRC_IP_OFFSET}:
     * {@code fmix64(srcHigh ^ fmix64(srcLow ^ s1)) ^ fmix64(dstHigh ^ fmix64(dstLow ^ s2))} with two fixed seeds. Each
     * address goes through two rounds of murmur3's finaliser, so every address bit reaches every fold bit; the
     * seeds differ so that swapping source and destination changes the fold. Stable across runs and processes.
     *
     * @param srcHigh  high 64 bits of the source address, as {@code Ipv6Header.getAddressHigh} reads them.
     * @param srcLow   low 64 bits of the source address.
     * @param dstHigh  high 64 bits of the destination address.
     * @param dstLow   low 64 bits of the destination address.
     * @param srcPort  source port, 0..65535.
     * @param dstPort  destination port, 0..65535.
     * @param protocol IP protocol number (next header), 0..255.
     * @return a well-mixed 32-bit hash.
     */
    public static int hash6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol)
    {
        return hashWords(fold6(srcHigh, srcLow, dstHigh, dstLow), portsWord(srcPort, dstPort, protocol));
    }

    /** @return true for a table made by {@link #ipv6}: 128-byte slots keyed by IPv6 addresses. */
    public boolean isIpv6()
    {
        return ipv6;
    }

    /** @return the maximum number of entries. */
    public int capacity()
    {
        return capacity;
    }

    /** @return the number of entries. */
    public int size()
    {
        return size;
    }

    /** @return the number of slots, including the {@link #PROBE_WINDOW} overflow slots; slot indexes are below it. */
    public int slotCount()
    {
        return slotCount;
    }

    /**
     * @return bytes of the slot region ({@code slotCount()} times 64, or 128 for an IPv6 table), not counting the
     * alignment slack.
     */
    public long memoryBytes()
    {
        return buffer.capacity();
    }

    /** @return the policy applied when a new key does not fit. */
    public FullPolicy fullPolicy()
    {
        return fullPolicy;
    }

    /** @return inserts that returned {@link #FULL}. */
    public long refusedInserts()
    {
        return refusedInserts;
    }

    /** @return entries evicted to make room for new keys. */
    public long evictions()
    {
        return evictions;
    }

    /**
     * Set the listener told about evictions (under a policy that evicts); only its
     * {@link FlowExpiry#onEvict(FlowTable, int)} is called. Null (the default) means nobody is told.
     *
     * @param listener to be told before an entry is evicted, or null.
     */
    public void setEvictionListener(final FlowExpiry listener)
    {
        this.evictionListener = listener;
    }

    /**
     * Set the idle timeouts used by {@link #expire(long, int, FlowExpiry)}, per TCP state. Entries in state
     * {@link #TCP_NONE} (UDP and anything else not TCP) use the UDP timeout.
     *
     * @param synNanos         for {@link #TCP_SYN_SEEN}.
     * @param establishedNanos for {@link #TCP_ESTABLISHED}.
     * @param closingNanos     for {@link #TCP_CLOSING}.
     * @param udpNanos         for {@link #TCP_NONE}.
     */
    public void setTimeouts(
        final long synNanos, final long establishedNanos, final long closingNanos, final long udpNanos)
    {
        timeoutNanosByState[TCP_NONE] = udpNanos;
        timeoutNanosByState[TCP_SYN_SEEN] = synNanos;
        timeoutNanosByState[TCP_ESTABLISHED] = establishedNanos;
        timeoutNanosByState[TCP_CLOSING] = closingNanos;
    }

    /**
     * @param tcpState one of {@link #TCP_NONE} .. {@link #TCP_CLOSING}.
     * @return the idle timeout for entries in that state.
     */
    public long timeoutNanos(final int tcpState)
    {
        return timeoutNanosByState[tcpState & 3];
    }

    /**
     * Look up a flow.
     *
     * @param srcIp    source IPv4 address.
     * @param dstIp    destination IPv4 address.
     * @param srcPort  source port.
     * @param dstPort  destination port.
     * @param protocol IP protocol number.
     * @return the entry's slot, or {@link #MISSING}.
     */
    /**
     * Loads the first word of a key's home slot and returns it: Java's stand-in for a software
     * prefetch. Touching the slots of a whole batch of frames before looking any of them up lets
     * their cache misses overlap instead of queueing one after another. The caller must use the
     * result (fold it into a field), or the JIT may drop the load.
     */
    public long prefetch(final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int protocol)
    {
        final long addressWord = addressWord(srcIp, dstIp);
        final long portsWord = portsWord(srcPort, dstPort, protocol);
        return buffer.getLong((homeSlot(hashWords(addressWord, portsWord)) << slotShift) + SRC_PORT_OFFSET, ORDER);
    }

    public int find(final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int protocol)
    {
        final long addressWord = addressWord(srcIp, dstIp);
        final long portsWord = portsWord(srcPort, dstPort, protocol);
        final int result = probe(addressWord, portsWord, homeSlot(hashWords(addressWord, portsWord)));

        return result >= 0 ? result : MISSING;
    }

    /**
     * Add a flow, or find it if it is already there.
     * <p>
     * A new entry has its key set, {@code lastSeen = nowNanos} and every other field zero. When the table already
     * holds {@link #capacity()} entries or the key does not fit its probe window (see the class comment), the
     * {@link FullPolicy} decides: {@code REFUSE} returns {@link #FULL}; {@code EVICT_STALEST} evicts the entry with the
     * oldest last-seen time in the key's window (or, if the window holds no entry at all, the next entry after it)
     * and returns the new entry's slot, which always fits then unless the {@link #MAX_SHIFT} bound still stands in
     * the way; in that case the insert is refused after the eviction. {@code EVICT_UNESTABLISHED} does the same with
     * the stalest entry of the window that carries no established connection, and refuses if there is none. Never
     * throws.
     *
     * @param srcIp    source IPv4 address.
     * @param dstIp    destination IPv4 address.
     * @param srcPort  source port.
     * @param dstPort  destination port.
     * @param protocol IP protocol number.
     * @param nowNanos the current time.
     * @return the entry's slot, or {@link #FULL}.
     */
    public int insert(
        final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int protocol, final long nowNanos)
    {
        return insertKey(addressWord(srcIp, dstIp), portsWord(srcPort, dstPort, protocol), nowNanos);
    }

    /** {@link #insert(int, int, int, int, int, long)} of a key given as its two words (and, IPv6, the key fields). */
    private int insertKey(final long addressWord, final long portsWord, final long nowNanos)
    {
        final int home = homeSlot(hashWords(addressWord, portsWord));
        final int result = probe(addressWord, portsWord, home);

        if (result >= 0)
        {
            return result;
        }

        if (size < capacity)
        {
            final int slot = place(addressWord, portsWord, home, result, nowNanos);
            if (slot >= 0)
            {
                return slot;
            }
        }

        final int victim = FullPolicy.EVICT_STALEST == fullPolicy ? stalestInWindow(home, nowNanos, false) :
            FullPolicy.EVICT_UNESTABLISHED == fullPolicy ? unestablishedVictim(home, nowNanos) : NO_VICTIM;
        if (NO_VICTIM == victim)
        {
            refusedInserts++;
            return FULL;
        }

        return evictAndInsert(addressWord, portsWord, home, victim, nowNanos);
    }

    /**
     * Remove a flow.
     *
     * @param srcIp    source IPv4 address.
     * @param dstIp    destination IPv4 address.
     * @param srcPort  source port.
     * @param dstPort  destination port.
     * @param protocol IP protocol number.
     * @return true if the flow was there.
     */
    public boolean remove(final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int protocol)
    {
        final int slot = find(srcIp, dstIp, srcPort, dstPort, protocol);
        if (MISSING == slot)
        {
            return false;
        }

        removeAt(slot);
        return true;
    }

    /**
     * IPv6 {@link #prefetch(int, int, int, int, int)}: loads both cache lines of the key's home slot (the ports word
     * and the first address word) and returns their sum, which the caller must use.
     */
    public long prefetch6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol)
    {
        final int offset = homeSlot(hash6(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol)) << slotShift;
        return buffer.getLong(offset + SRC_PORT_OFFSET, ORDER) + buffer.getLong(offset + SRC_HIGH_OFFSET, ORDER);
    }

    /**
     * Look up an IPv6 flow in an IPv6 table. Probing is {@link #find(int, int, int, int, int)}'s with the address fold
     * as the address word; a slot whose fold and ports match is the key's only if its 32 bytes of addresses match too.
     *
     * @return the entry's slot, or {@link #MISSING}.
     */
    public int find6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol)
    {
        setKeyAddresses(srcHigh, srcLow, dstHigh, dstLow);
        final long addressWord = fold6(srcHigh, srcLow, dstHigh, dstLow);
        final long portsWord = portsWord(srcPort, dstPort, protocol);
        final int result = probe(addressWord, portsWord, homeSlot(hashWords(addressWord, portsWord)));

        return result >= 0 ? result : MISSING;
    }

    /**
     * Add an IPv6 flow to an IPv6 table, or find it: {@link #insert(int, int, int, int, int, long)} with the addresses
     * written at {@link #SRC_HIGH_OFFSET}..{@link #DST_LOW_OFFSET}. Never throws.
     *
     * @return the entry's slot, or {@link #FULL}.
     */
    public int insert6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol, final long nowNanos)
    {
        setKeyAddresses(srcHigh, srcLow, dstHigh, dstLow);
        return insertKey(fold6(srcHigh, srcLow, dstHigh, dstLow), portsWord(srcPort, dstPort, protocol), nowNanos);
    }

    /**
     * Remove an IPv6 flow from an IPv6 table.
     *
     * @return true if the flow was there.
     */
    public boolean remove6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol)
    {
        final int slot = find6(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
        if (MISSING == slot)
        {
            return false;
        }

        removeAt(slot);
        return true;
    }

    /**
     * Remove the entry in a slot, shifting later entries of its run back so that no tombstone is left. Does nothing
     * if the slot is empty.
     *
     * @param slot of the entry.
     */
    public void removeAt(final int slot)
    {
        if (!isOccupied(slot))
        {
            return;
        }

        // The rest of the run, up to an empty slot or an entry already at its home, moves back one slot. Removal
        // cannot fail, so each of those entries gets its displacement lowered in place while the run is measured,
        // then the whole run moves in one overlapping copy (Unsafe.copyMemory is a memmove) and its old last slot
        // is cleared.
        int last = slot;
        for (int next = slot + 1; next < slotCount; next++)
        {
            final int index = (next << slotShift) + SRC_PORT_OFFSET;
            final long portsWord = buffer.getLong(index, ORDER);
            if (0 == (portsWord & IN_USE_BIT) || 0 == (portsWord >>> DISPLACEMENT_SHIFT))
            {
                break;
            }

            buffer.putLong(index, portsWord - (1L << DISPLACEMENT_SHIFT), ORDER);
            last = next;
        }

        if (last > slot)
        {
            buffer.putBytes(slot << slotShift, buffer, (slot + 1) << slotShift, (last - slot) << slotShift);
        }
        buffer.setMemory(last << slotShift, slotLength, (byte)0);
        size--;
    }

    /**
     * Record a packet of a flow: one more packet, {@code frameBytes} more bytes, last seen now.
     *
     * @param slot       of the entry.
     * @param nowNanos   the current time.
     * @param frameBytes length of the frame.
     */
    public void touch(final int slot, final long nowNanos, final int frameBytes)
    {
        final int offset = slot << slotShift;
        buffer.putLong(offset + LAST_SEEN_OFFSET, nowNanos, ORDER);
        buffer.putLong(offset + PACKETS_OFFSET, buffer.getLong(offset + PACKETS_OFFSET, ORDER) + 1, ORDER);
        buffer.putLong(offset + BYTES_OFFSET, buffer.getLong(offset + BYTES_OFFSET, ORDER) + frameBytes, ORDER);
    }

    /**
     * Walk at most {@code maxSlots} slots from where the previous call stopped (wrapping at the end of the table)
     * and offer each entry idle longer than the timeout of its TCP state to the listener; remove those it accepts.
     * <p>
     * After a removal the same slot is examined again, since the backward shift may have moved an entry into it;
     * every examination counts against {@code maxSlots}. If the listener removes other entries, an entry not yet
     * visited may move back past the cursor and is then examined one pass late. An entry is idle when
     * {@code nowNanos - lastSeen > timeout}.
     *
     * @param nowNanos the current time.
     * @param maxSlots how many slot examinations this call may make.
     * @param listener decides whether an idle entry goes.
     * @return the number of entries this call removed.
     */
    public int expire(final long nowNanos, final int maxSlots, final FlowExpiry listener)
    {
        int removed = 0;
        int slot = expiryCursor;
        for (int examined = 0; examined < maxSlots; examined++)
        {
            final int offset = slot << slotShift;
            final long portsWord = buffer.getLong(offset + SRC_PORT_OFFSET, ORDER);
            boolean advance = true;
            if (0 != (portsWord & IN_USE_BIT) &&
                nowNanos - buffer.getLong(offset + LAST_SEEN_OFFSET, ORDER) >
                timeoutNanosByState[buffer.getByte(offset + TCP_STATE_OFFSET) & 3])
            {
                final long addressWord = buffer.getLong(offset + SRC_IP_OFFSET, ORDER);
                final long keyPortsWord = portsWord & KEY_PORTS_MASK;
                // IPv6: the idle entry's addresses, kept here because the listener may use the table.
                final long srcHigh = ipv6 ? buffer.getLong(offset + SRC_HIGH_OFFSET, ORDER) : 0;
                final long srcLow = ipv6 ? buffer.getLong(offset + SRC_LOW_OFFSET, ORDER) : 0;
                final long dstHigh = ipv6 ? buffer.getLong(offset + DST_HIGH_OFFSET, ORDER) : 0;
                final long dstLow = ipv6 ? buffer.getLong(offset + DST_LOW_OFFSET, ORDER) : 0;
                final boolean accepted = listener.onIdle(this, slot);

                setKeyAddresses(srcHigh, srcLow, dstHigh, dstLow);
                if (holdsKey(slot, addressWord, keyPortsWord))
                {
                    if (accepted)
                    {
                        removeAt(slot);
                        removed++;
                        advance = false;
                    }
                }
                else
                {
                    // The listener removed other entries and this one moved back: whatever is in the slot now has
                    // not been examined in this pass.
                    advance = false;
                    if (accepted)
                    {
                        final int movedTo = locate(addressWord, keyPortsWord);
                        if (movedTo >= 0)
                        {
                            removeAt(movedTo);
                            removed++;
                        }
                    }
                }
            }

            if (advance && ++slot == slotCount)
            {
                slot = 0;
            }
        }
        expiryCursor = slot;

        return removed;
    }

    /**
     * The first slot in use at or after {@code fromSlot}, for walking the table:
     * {@code for (int s = t.nextOccupied(0); s != MISSING; s = t.nextOccupied(s + 1))}.
     *
     * @param fromSlot where to start; below zero counts as zero.
     * @return the slot, or {@link #MISSING} if there is none up to the end of the table.
     */
    public int nextOccupied(final int fromSlot)
    {
        for (int slot = Math.max(fromSlot, 0); slot < slotCount; slot++)
        {
            if (isOccupied(slot))
            {
                return slot;
            }
        }

        return MISSING;
    }

    /**
     * @param slot any slot index below {@link #slotCount()}.
     * @return true if it holds an entry.
     */
    public boolean isOccupied(final int slot)
    {
        return 0 != (buffer.getByte((slot << slotShift) + FLAGS_OFFSET) & FLAG_IN_USE);
    }

    /**
     * @param slot of the entry.
     * @return its source IPv4 address.
     */
    public int srcIp(final int slot)
    {
        return buffer.getInt((slot << slotShift) + SRC_IP_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return its destination IPv4 address.
     */
    public int dstIp(final int slot)
    {
        return buffer.getInt((slot << slotShift) + DST_IP_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return its source port.
     */
    public int srcPort(final int slot)
    {
        return buffer.getShort((slot << slotShift) + SRC_PORT_OFFSET, ORDER) & 0xFFFF;
    }

    /**
     * @param slot of the entry.
     * @return its destination port.
     */
    public int dstPort(final int slot)
    {
        return buffer.getShort((slot << slotShift) + DST_PORT_OFFSET, ORDER) & 0xFFFF;
    }

    /**
     * @param slot of the entry.
     * @return its IP protocol number.
     */
    public int protocol(final int slot)
    {
        return buffer.getByte((slot << slotShift) + PROTOCOL_OFFSET) & 0xFF;
    }

    /**
     * IPv6 tables only.
     *
     * @param slot of the entry.
     * @return the high 64 bits of its source address.
     */
    public long srcHigh(final int slot)
    {
        return buffer.getLong((slot << slotShift) + SRC_HIGH_OFFSET, ORDER);
    }

    /**
     * IPv6 tables only.
     *
     * @param slot of the entry.
     * @return the low 64 bits of its source address.
     */
    public long srcLow(final int slot)
    {
        return buffer.getLong((slot << slotShift) + SRC_LOW_OFFSET, ORDER);
    }

    /**
     * IPv6 tables only.
     *
     * @param slot of the entry.
     * @return the high 64 bits of its destination address.
     */
    public long dstHigh(final int slot)
    {
        return buffer.getLong((slot << slotShift) + DST_HIGH_OFFSET, ORDER);
    }

    /**
     * IPv6 tables only.
     *
     * @param slot of the entry.
     * @return the low 64 bits of its destination address.
     */
    public long dstLow(final int slot)
    {
        return buffer.getLong((slot << slotShift) + DST_LOW_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return its service id.
     */
    public int serviceId(final int slot)
    {
        return buffer.getInt((slot << slotShift) + SERVICE_ID_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @param serviceId to set.
     */
    public void setServiceId(final int slot, final int serviceId)
    {
        buffer.putInt((slot << slotShift) + SERVICE_ID_OFFSET, serviceId, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return its backend id.
     */
    public int backendId(final int slot)
    {
        return buffer.getInt((slot << slotShift) + BACKEND_ID_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @param backendId to set, an opaque handle from the scheduler.
     */
    public void setBackendId(final int slot, final int backendId)
    {
        buffer.putInt((slot << slotShift) + BACKEND_ID_OFFSET, backendId, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return its NAT IPv4 address.
     */
    public int natIp(final int slot)
    {
        return buffer.getInt((slot << slotShift) + NAT_IP_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @param natIp to set.
     */
    public void setNatIp(final int slot, final int natIp)
    {
        buffer.putInt((slot << slotShift) + NAT_IP_OFFSET, natIp, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return its NAT port, 0..65535.
     */
    public int natPort(final int slot)
    {
        return buffer.getShort((slot << slotShift) + NAT_PORT_OFFSET, ORDER) & 0xFFFF;
    }

    /**
     * @param slot of the entry.
     * @param natPort to set; only the low 16 bits are kept.
     */
    public void setNatPort(final int slot, final int natPort)
    {
        buffer.putShort((slot << slotShift) + NAT_PORT_OFFSET, (short)natPort, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return its peer MAC address in the low 48 bits.
     */
    public long peerMac(final int slot)
    {
        return buffer.getLong((slot << slotShift) + PEER_MAC_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @param peerMac to set; only the low 48 bits are kept.
     */
    public void setPeerMac(final int slot, final long peerMac)
    {
        buffer.putLong((slot << slotShift) + PEER_MAC_OFFSET, peerMac & MAC_MASK, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return when it was last seen, in {@code System.nanoTime()} scale.
     */
    public long lastSeen(final int slot)
    {
        return buffer.getLong((slot << slotShift) + LAST_SEEN_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @param nowNanos when it was last seen.
     */
    public void setLastSeen(final int slot, final long nowNanos)
    {
        buffer.putLong((slot << slotShift) + LAST_SEEN_OFFSET, nowNanos, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return its TCP state, {@link #TCP_NONE} .. {@link #TCP_CLOSING}.
     */
    public int tcpState(final int slot)
    {
        return buffer.getByte((slot << slotShift) + TCP_STATE_OFFSET);
    }

    /**
     * @param slot of the entry.
     * @param tcpState {@link #TCP_NONE} .. {@link #TCP_CLOSING}; other bits are dropped.
     */
    public void setTcpState(final int slot, final int tcpState)
    {
        buffer.putByte((slot << slotShift) + TCP_STATE_OFFSET, (byte)(tcpState & 3));
    }

    /**
     * @param slot of the entry.
     * @return true if it is the return direction (backend to client) of a flow.
     */
    public boolean isReturnDirection(final int slot)
    {
        return 0 != (buffer.getByte((slot << slotShift) + FLAGS_OFFSET) & FLAG_RETURN_DIRECTION);
    }

    /**
     * @param slot of the entry.
     * @param returnDirection true for the return direction.
     */
    /** True when a FIN was seen in this entry's direction. */
    public boolean isFinSeen(final int slot)
    {
        return 0 != (buffer.getByte((slot << slotShift) + FLAGS_OFFSET) & FLAG_FIN_SEEN);
    }

    /** Records a FIN in this entry's direction. */
    public void setFinSeen(final int slot)
    {
        final int index = (slot << slotShift) + FLAGS_OFFSET;
        buffer.putByte(index, (byte)(buffer.getByte(index) | FLAG_FIN_SEEN));
    }

    /** True when the flow has only this (forward) entry: its replies bypass lb. */
    public boolean isOneWay(final int slot)
    {
        return 0 != (buffer.getByte((slot << slotShift) + FLAGS_OFFSET) & FLAG_ONE_WAY);
    }

    /** Marks the entry as a one-way flow's only entry. */
    public void setOneWay(final int slot)
    {
        final int index = (slot << slotShift) + FLAGS_OFFSET;
        buffer.putByte(index, (byte)(buffer.getByte(index) | FLAG_ONE_WAY));
    }

    public void setReturnDirection(final int slot, final boolean returnDirection)
    {
        final int index = (slot << slotShift) + FLAGS_OFFSET;
        final int flags = buffer.getByte(index);
        buffer.putByte(index, (byte)(returnDirection ? flags | FLAG_RETURN_DIRECTION : flags & ~FLAG_RETURN_DIRECTION));
    }

    /**
     * @param slot of the entry.
     * @return packets counted by {@link #touch(int, long, int)}.
     */
    public long packets(final int slot)
    {
        return buffer.getLong((slot << slotShift) + PACKETS_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @param packets to set.
     */
    public void setPackets(final int slot, final long packets)
    {
        buffer.putLong((slot << slotShift) + PACKETS_OFFSET, packets, ORDER);
    }

    /**
     * @param slot of the entry.
     * @return bytes counted by {@link #touch(int, long, int)}.
     */
    public long bytes(final int slot)
    {
        return buffer.getLong((slot << slotShift) + BYTES_OFFSET, ORDER);
    }

    /**
     * @param slot of the entry.
     * @param bytes to set.
     */
    public void setBytes(final int slot, final long bytes)
    {
        buffer.putLong((slot << slotShift) + BYTES_OFFSET, bytes, ORDER);
    }

    /** The home slot of a hash: multiply-shift onto {@code [0, homeSlots)}. Package-private for tests. */
    int homeSlot(final int hash)
    {
        return (int)(((hash & 0xFFFF_FFFFL) * homeSlots) >>> 32);
    }

    /** Package-private for tests. */
    int expiryCursor()
    {
        return expiryCursor;
    }

    /** The region itself. Package-private for tests. */
    UnsafeBuffer buffer()
    {
        return buffer;
    }

    /** A key's addresses as one word, as slots hold them (also {@link HalfOpenCache}'s key). */
    static long addressWord(final int srcIp, final int dstIp)
    {
        return (srcIp & 0xFFFF_FFFFL) | ((long)dstIp << 32);
    }

    /** A key's ports and protocol as one word with the in-use bit, never 0 (also {@link HalfOpenCache}'s key). */
    static long portsWord(final int srcPort, final int dstPort, final int protocol)
    {
        return (srcPort & 0xFFFFL) | ((dstPort & 0xFFFFL) << 16) | ((protocol & 0xFFL) << 32) | IN_USE_BIT;
    }

    /** An IPv6 key's addresses folded into the address word, as IPv6 slots hold it (see {@link #hash6}). */
    static long fold6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow)
    {
        return fmix64(srcHigh ^ fmix64(srcLow ^ SRC_FOLD_SEED)) ^ fmix64(dstHigh ^ fmix64(dstLow ^ DST_FOLD_SEED));
    }

    /**
     * For tests: the source high half that, with {@code otherSrcLow} and the same destination, gives the same
     * {@link #fold6} as {@code (srcHigh, srcLow)}. The fold is no defence against crafted keys, which is why a probe
     * compares the addresses themselves.
     */
    static long foldCollidingSrcHigh(final long srcHigh, final long srcLow, final long otherSrcLow)
    {
        return srcHigh ^ fmix64(srcLow ^ SRC_FOLD_SEED) ^ fmix64(otherSrcLow ^ SRC_FOLD_SEED);
    }

    /** The hash of a key given as its two words (also {@link HalfOpenCache}'s set index). */
    static int hashWords(final long addressWord, final long keyPortsWord)
    {
        return (int)(fmix64(addressWord ^ fmix64(keyPortsWord + HASH_SEED)) >>> 32);
    }

    private static long fmix64(final long value)
    {
        long k = value;
        k ^= k >>> 33;
        k *= 0xFF51_AFD7_ED55_8CCDL;
        k ^= k >>> 33;
        k *= 0xC4CE_B9FE_1A85_EC53L;
        k ^= k >>> 33;
        return k;
    }

    /**
     * Probe a key's window: its slot if present, else {@code ~slot} (negative) for the slot where it would go, else
     * {@link #NO_ROOM} if it would sit {@link #PROBE_WINDOW} or more slots from home. Runs are ordered by home slot,
     * so the key cannot be past an empty slot or past an entry closer to its home than the key would be.
     */
    private int probe(final long addressWord, final long keyPortsWord, final int home)
    {
        for (int displacement = 0; displacement < PROBE_WINDOW; displacement++)
        {
            final int slot = home + displacement;
            final int offset = slot << slotShift;
            final long portsWord = buffer.getLong(offset + SRC_PORT_OFFSET, ORDER);
            if (0 == (portsWord & IN_USE_BIT) || (int)(portsWord >>> DISPLACEMENT_SHIFT) < displacement)
            {
                return ~slot;
            }
            if ((portsWord & KEY_PORTS_MASK) == keyPortsWord &&
                buffer.getLong(offset + SRC_IP_OFFSET, ORDER) == addressWord &&
                (!ipv6 || holdsKeyAddresses(offset)))
            {
                return slot;
            }
        }

        return NO_ROOM;
    }

    /** The slot of a key given as its two words, or a negative number if it is absent. */
    private int locate(final long addressWord, final long keyPortsWord)
    {
        return probe(addressWord, keyPortsWord, homeSlot(hashWords(addressWord, keyPortsWord)));
    }

    /**
     * Put a new key where {@link #probe(long, long, int)} said it goes, moving the rest of the run up one slot.
     *
     * @return the key's slot, or {@link #FULL} (nothing changed) if the key or a moved entry would leave its window
     * or more than {@link #MAX_SHIFT} entries would move.
     */
    private int place(
        final long addressWord, final long keyPortsWord, final int home, final int probeResult, final long nowNanos)
    {
        if (NO_ROOM == probeResult)
        {
            return FULL;
        }

        final int slot = ~probeResult;
        int end = slot;
        while (true)
        {
            if (end == slotCount || end - slot > MAX_SHIFT)
            {
                return FULL;
            }
            final long portsWord = buffer.getLong((end << slotShift) + SRC_PORT_OFFSET, ORDER);
            if (0 == (portsWord & IN_USE_BIT))
            {
                break;
            }
            if ((int)(portsWord >>> DISPLACEMENT_SHIFT) + 1 >= PROBE_WINDOW)
            {
                return FULL;
            }
            end++;
        }

        // The run [slot, end) moves up one slot in one overlapping copy (Unsafe.copyMemory is a memmove), then each
        // moved entry is one slot further from home. The table does not wrap, so the run is one contiguous range.
        // The displacements are raised only now: the scan above may still have refused the key. occupy() then
        // writes all 64 bytes of the key's slot.
        if (end > slot)
        {
            buffer.putBytes((slot + 1) << slotShift, buffer, slot << slotShift, (end - slot) << slotShift);
            for (int moved = slot + 1; moved <= end; moved++)
            {
                final int index = (moved << slotShift) + DISPLACEMENT_OFFSET;
                buffer.putByte(index, (byte)(buffer.getByte(index) + 1));
            }
        }
        occupy(slot, addressWord, keyPortsWord | ((long)(slot - home) << DISPLACEMENT_SHIFT), nowNanos);
        size++;

        return slot;
    }

    private int evictAndInsert(
        final long addressWord, final long keyPortsWord, final int home, final int windowVictim, final long nowNanos)
    {
        int victim = windowVictim;
        if (MISSING == victim)
        {
            // The window is empty but the table holds capacity entries: evict the nearest entry after the window.
            victim = nextOccupied(home + PROBE_WINDOW);
            if (MISSING == victim)
            {
                victim = nextOccupied(0);
            }
        }

        final int victimOffset = victim << slotShift;
        final long victimAddressWord = buffer.getLong(victimOffset + SRC_IP_OFFSET, ORDER);
        final long victimPortsWord = buffer.getLong(victimOffset + SRC_PORT_OFFSET, ORDER) & KEY_PORTS_MASK;
        // IPv6: the new key's addresses and the victim's, kept here because the listener may use the table.
        final long newSrcHigh = keySrcHigh;
        final long newSrcLow = keySrcLow;
        final long newDstHigh = keyDstHigh;
        final long newDstLow = keyDstLow;
        final long victimSrcHigh = ipv6 ? buffer.getLong(victimOffset + SRC_HIGH_OFFSET, ORDER) : 0;
        final long victimSrcLow = ipv6 ? buffer.getLong(victimOffset + SRC_LOW_OFFSET, ORDER) : 0;
        final long victimDstHigh = ipv6 ? buffer.getLong(victimOffset + DST_HIGH_OFFSET, ORDER) : 0;
        final long victimDstLow = ipv6 ? buffer.getLong(victimOffset + DST_LOW_OFFSET, ORDER) : 0;
        if (null != evictionListener)
        {
            evictionListener.onEvict(this, victim);
        }

        // The listener may have removed other entries and so moved the victim back: find it again if so.
        setKeyAddresses(victimSrcHigh, victimSrcLow, victimDstHigh, victimDstLow);
        final int victimNow = holdsKey(victim, victimAddressWord, victimPortsWord) ?
            victim : locate(victimAddressWord, victimPortsWord);
        if (victimNow >= 0)
        {
            removeAt(victimNow);
        }
        evictions++;

        // Removing any entry of the key's window (or, with the window empty, any entry) makes room for the key: the
        // entries after the hole move back one slot and the insert moves them up again.
        setKeyAddresses(newSrcHigh, newSrcLow, newDstHigh, newDstLow);
        final int result = probe(addressWord, keyPortsWord, home);
        final int slot = result >= 0 ? result :
            size < capacity ? place(addressWord, keyPortsWord, home, result, nowNanos) : FULL;
        if (FULL == slot)
        {
            refusedInserts++;
        }

        return slot;
    }

    /**
     * The slot with the oldest last-seen time among the entries in a key's window, or {@link #MISSING}.
     *
     * @param unestablishedOnly consider only the entries {@link FullPolicy#EVICT_UNESTABLISHED} may evict.
     */
    private int stalestInWindow(final int home, final long nowNanos, final boolean unestablishedOnly)
    {
        int stalest = MISSING;
        long oldestAge = Long.MIN_VALUE;
        final int end = home + PROBE_WINDOW;
        for (int slot = home; slot < end; slot++)
        {
            final int offset = slot << slotShift;
            if (0 != (buffer.getByte(offset + FLAGS_OFFSET) & FLAG_IN_USE) &&
                (!unestablishedOnly || isUnestablished(offset)))
            {
                // Compare ages, not timestamps, so that nanoTime wrap-around does not matter.
                final long age = nowNanos - buffer.getLong(offset + LAST_SEEN_OFFSET, ORDER);
                if (age > oldestAge)
                {
                    oldestAge = age;
                    stalest = slot;
                }
            }
        }

        return stalest;
    }

    /**
     * What {@link FullPolicy#EVICT_UNESTABLISHED} evicts for a key: the stalest evictable entry of its window; or, when
     * the window has a free slot and only the table's capacity stands in the way (a window near the table's end sees
     * few runs), the first evictable entry after the window, looking at most {@link #EVICTION_SCAN} slots on, wrapping to
     * the start; else {@link #NO_VICTIM}: a window full of established entries has no room for the key.
     */
    private int unestablishedVictim(final int home, final long nowNanos)
    {
        final int inWindow = stalestInWindow(home, nowNanos, true);
        if (MISSING != inWindow)
        {
            return inWindow;
        }
        if (!hasFreeSlot(home))
        {
            return NO_VICTIM;
        }
        int slot = home + PROBE_WINDOW;
        for (int looked = 0; looked < EVICTION_SCAN; looked++, slot++)
        {
            if (slot == slotCount)
            {
                slot = 0;
            }
            final int offset = slot << slotShift;
            if (0 != (buffer.getByte(offset + FLAGS_OFFSET) & FLAG_IN_USE) && isUnestablished(offset))
            {
                return slot;
            }
        }
        return NO_VICTIM;
    }

    private boolean hasFreeSlot(final int home)
    {
        for (int slot = home; slot < home + PROBE_WINDOW; slot++)
        {
            if (0 == (buffer.getByte((slot << slotShift) + FLAGS_OFFSET) & FLAG_IN_USE))
            {
                return true;
            }
        }
        return false;
    }

    /** Whether the entry at this offset carries no established connection (see {@link FullPolicy#EVICT_UNESTABLISHED}). */
    private boolean isUnestablished(final int offset)
    {
        final int tcpState = buffer.getByte(offset + TCP_STATE_OFFSET);
        // A return entry's own count says nothing of a one-way UDP stream, so only forward entries judge UDP flows.
        return TCP_SYN_SEEN == tcpState || TCP_CLOSING == tcpState ||
            (TCP_NONE == tcpState && 0 == (buffer.getByte(offset + FLAGS_OFFSET) & FLAG_RETURN_DIRECTION) &&
            buffer.getLong(offset + PACKETS_OFFSET, ORDER) <= 1);
    }

    private boolean holdsKey(final int slot, final long addressWord, final long keyPortsWord)
    {
        final int offset = slot << slotShift;
        return (buffer.getLong(offset + SRC_PORT_OFFSET, ORDER) & KEY_PORTS_MASK) == keyPortsWord &&
            buffer.getLong(offset + SRC_IP_OFFSET, ORDER) == addressWord &&
            (!ipv6 || holdsKeyAddresses(offset));
    }

    /** IPv6 tables: whether the slot at this offset holds the addresses of the key being probed. */
    private boolean holdsKeyAddresses(final int offset)
    {
        return buffer.getLong(offset + SRC_LOW_OFFSET, ORDER) == keySrcLow &&
            buffer.getLong(offset + DST_LOW_OFFSET, ORDER) == keyDstLow &&
            buffer.getLong(offset + SRC_HIGH_OFFSET, ORDER) == keySrcHigh &&
            buffer.getLong(offset + DST_HIGH_OFFSET, ORDER) == keyDstHigh;
    }

    private void setKeyAddresses(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow)
    {
        keySrcHigh = srcHigh;
        keySrcLow = srcLow;
        keyDstHigh = dstHigh;
        keyDstLow = dstLow;
    }

    private void occupy(final int slot, final long addressWord, final long keyPortsWord, final long nowNanos)
    {
        final int offset = slot << slotShift;
        buffer.putLong(offset + SRC_IP_OFFSET, addressWord, ORDER);
        buffer.putLong(offset + SRC_PORT_OFFSET, keyPortsWord, ORDER);
        buffer.putLong(offset + SERVICE_ID_OFFSET, 0L, ORDER);
        buffer.putLong(offset + NAT_IP_OFFSET, 0L, ORDER);
        buffer.putLong(offset + LAST_SEEN_OFFSET, nowNanos, ORDER);
        buffer.putLong(offset + PACKETS_OFFSET, 0L, ORDER);
        buffer.putLong(offset + BYTES_OFFSET, 0L, ORDER);
        buffer.putLong(offset + PEER_MAC_OFFSET, 0L, ORDER);
        if (ipv6)
        {
            buffer.putLong(offset + SRC_HIGH_OFFSET, keySrcHigh, ORDER);
            buffer.putLong(offset + SRC_LOW_OFFSET, keySrcLow, ORDER);
            buffer.putLong(offset + DST_HIGH_OFFSET, keyDstHigh, ORDER);
            buffer.putLong(offset + DST_LOW_OFFSET, keyDstLow, ORDER);
        }
    }
}
