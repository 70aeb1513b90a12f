package lb.benchmarks;

import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The IPv6 twin of {@link FlowTableBenchmark}'s {@code lookupHit} and {@code removeThenInsert}: a
 * {@link FlowTable#ipv6} table (128-byte slots) filled to its capacity with random TCP flows from clients in
 * 2001:2::/64 to four VIPs 2001:2::100-103, run beside the IPv4 rows to show what the second cache line, the address
 * fold and the 32-byte address compare cost.
 * <p>
 * Keys are generated up front, five longs each (source high, low, destination high, low, ports); the source low half
 * carries a bijection of the key index in its low 32 bits, so keys are distinct by construction; setup checks that
 * every hit key is in the table.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FlowTable6Benchmark
{
    private static final int PROTOCOL_TCP = 6;
    private static final int KEY_LONGS = 5;
    private static final long PREFIX = 0x2001_0002_0000_0000L; // 2001:2::/64, the testbed's client LAN
    private static final int[] SERVICE_PORTS = { 80, 443 };

    /** Number of flows in the table, which is also its capacity. */
    @Param({ "1000", "100000", "1000000" })
    public int flows;

    private FlowTable table;

    // Keys present in the table, in random order, repeated to fill a power-of-two array.
    private long[] hitKeys;
    private int hitMask;
    private int hitCursor;

    // A ring of distinct keys of which a window of `flows` consecutive ones is in the table (see FlowTableBenchmark).
    private long[] churnKeys;
    private int churnMask;
    private int churnHead;
    private long now;

    @Setup(Level.Trial)
    public void setUp()
    {
        final SplittableRandom random = new SplittableRandom(0x5EED_F106L);
        table = FlowTable.ipv6(flows, FullPolicy.REFUSE, null);
        now = System.nanoTime();

        final int churnLength = Integer.highestOneBit(flows - 1) << 2;
        churnMask = churnLength - 1;
        churnKeys = new long[churnLength * KEY_LONGS];
        for (int i = 0; i < churnLength; i++)
        {
            writeKey(churnKeys, i, random);
        }
        for (int i = 0; i < flows; i++)
        {
            if (insert(churnKeys, i) < 0)
            {
                throw new IllegalStateException("insert refused at " + i + " of " + flows);
            }
        }
        churnHead = 0;

        final int hitLength = Integer.highestOneBit(flows - 1) << 1;
        hitMask = hitLength - 1;
        hitKeys = new long[hitLength * KEY_LONGS];
        final int[] order = FlowTableBenchmark.shuffledIndexes(flows, random);
        for (int i = 0; i < hitLength; i++)
        {
            System.arraycopy(churnKeys, order[i % flows] * KEY_LONGS, hitKeys, i * KEY_LONGS, KEY_LONGS);
            if (find(hitKeys, i) < 0)
            {
                throw new IllegalStateException("hit key " + i + " is not in the table");
            }
        }
    }

    @TearDown(Level.Trial)
    public void checkChurnKeptSize()
    {
        if (table.size() != flows || table.refusedInserts() != 0)
        {
            throw new IllegalStateException(
                "table size " + table.size() + " (expected " + flows + "), refused " + table.refusedInserts());
        }
    }

    /** Look up a key that is in the table. */
    @Benchmark
    public int lookupHit()
    {
        return find(hitKeys, hitCursor++ & hitMask);
    }

    /** Remove the oldest key and insert a new one: the table stays at {@code flows} entries. */
    @Benchmark
    public int removeThenInsert()
    {
        final long[] keys = churnKeys;
        final int old = churnHead & churnMask;
        final int fresh = (churnHead + flows) & churnMask;
        churnHead++;
        final int base = old * KEY_LONGS;
        final long ports = keys[base + 4];
        table.remove6(keys[base], keys[base + 1], keys[base + 2], keys[base + 3],
            (int)(ports >>> 16), (int)(ports & 0xFFFF), PROTOCOL_TCP);
        return insert(keys, fresh);
    }

    private int find(final long[] keys, final int i)
    {
        final int base = i * KEY_LONGS;
        final long ports = keys[base + 4];
        return table.find6(keys[base], keys[base + 1], keys[base + 2], keys[base + 3],
            (int)(ports >>> 16), (int)(ports & 0xFFFF), PROTOCOL_TCP);
    }

    private int insert(final long[] keys, final int i)
    {
        final int base = i * KEY_LONGS;
        final long ports = keys[base + 4];
        return table.insert6(keys[base], keys[base + 1], keys[base + 2], keys[base + 3],
            (int)(ports >>> 16), (int)(ports & 0xFFFF), PROTOCOL_TCP, now);
    }

    /** Key {@code index}: source 2001:2::/64 plus random high bits over the index's bijection, a random VIP and port. */
    private static void writeKey(final long[] keys, final int index, final SplittableRandom random)
    {
        final int base = index * KEY_LONGS;
        keys[base] = PREFIX;
        keys[base + 1] = ((long)random.nextInt() << 32) | (TcpFrames.scramble(index) & 0xFFFF_FFFFL);
        keys[base + 2] = PREFIX;
        keys[base + 3] = 0x100 + random.nextInt(4);
        keys[base + 4] = ((long)(1024 + random.nextInt(65536 - 1024)) << 16) |
            SERVICE_PORTS[random.nextInt(SERVICE_PORTS.length)];
    }
}
