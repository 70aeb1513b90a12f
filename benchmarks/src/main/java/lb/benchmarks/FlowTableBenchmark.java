package lb.benchmarks;

import lb.dataplane.flow.FlowTable;
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
 * {@link FlowTable} lookups (hit, hit waiting for the previous lookup, hit plus touch, miss) and steady-state churn
 * (one remove plus one insert) in a table holding {@code flows} random TCP 5-tuples, at the table's full capacity
 * (load 0.75, the most it is built for).
 * <p>
 * Keys are generated up front into int arrays, four ints per key, and every operation takes the next key (index
 * masked to a power-of-two array), so no two consecutive operations use the same key and the key stream itself is
 * read sequentially. Source addresses come from a bijection of the key index, so keys are distinct by construction;
 * setup still checks that every hit key is in the table and every miss key is not.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FlowTableBenchmark
{
    private static final int PROTOCOL_TCP = 6;
    private static final int KEY_INTS = 4;
    private static final int[] VIPS = { 0xC612_0064, 0xC612_0065, 0xC612_0066, 0xC612_0067 }; // 198.18.0.100-103
    private static final int[] SERVICE_PORTS = { 80, 443 };

    /** Number of flows in the table, which is also its capacity. */
    @Param({ "1000", "100000", "1000000" })
    public int flows;

    /** Flow table in transparent huge pages (madvised mmap) or in a plain direct buffer. */
    @Param({"false", "true"})
    boolean hugePages;

    private FlowTable table;

    // Keys present in the table, in random order, repeated to fill a power-of-two array.
    private int[] hitKeys;
    private int hitMask;
    private int hitCursor;
    private int dependentCursor;

    // Keys never inserted.
    private int[] missKeys;
    private int missMask;
    private int missCursor;

    // A ring of distinct keys of which a window of `flows` consecutive ones is in the table: each churn operation
    // removes the oldest key of the window and inserts the key after its end.
    private int[] churnKeys;
    private int churnMask;
    private int churnHead;
    private long now;

    @Setup(Level.Trial)
    public void setUp()
    {
        final SplittableRandom random = new SplittableRandom(0x5EED_F10EL);
        table = new FlowTable(flows, lb.dataplane.flow.FullPolicy.REFUSE, hugePages ? lb.dataplane.io.HugePageMemory::allocate : null);
        now = System.nanoTime();

        // A power of two of at least twice the table size: the keys not in the table supply new ones.
        final int churnLength = Integer.highestOneBit(flows - 1) << 2;
        churnMask = churnLength - 1;
        churnKeys = new int[churnLength * KEY_INTS];
        for (int i = 0; i < churnLength; i++)
        {
            writeKey(churnKeys, i, i, random);
        }
        for (int i = 0; i < flows; i++)
        {
            if (table.insert(srcIp(churnKeys, i), dstIp(churnKeys, i), srcPort(churnKeys, i), dstPort(churnKeys, i),
                PROTOCOL_TCP, now) < 0)
            {
                throw new IllegalStateException("insert refused at " + i + " of " + flows);
            }
        }
        if (table.size() != flows)
        {
            throw new IllegalStateException("table holds " + table.size() + " keys, expected " + flows);
        }
        churnHead = 0;

        final int hitLength = Integer.highestOneBit(flows - 1) << 1;
        hitMask = hitLength - 1;
        hitKeys = new int[hitLength * KEY_INTS];
        final int[] order = shuffledIndexes(flows, random);
        for (int i = 0; i < hitLength; i++)
        {
            System.arraycopy(churnKeys, order[i % flows] * KEY_INTS, hitKeys, i * KEY_INTS, KEY_INTS);
            if (table.find(srcIp(hitKeys, i), dstIp(hitKeys, i), srcPort(hitKeys, i), dstPort(hitKeys, i),
                PROTOCOL_TCP) < 0)
            {
                throw new IllegalStateException("hit key " + i + " is not in the table");
            }
        }

        // Indexes from beyond the churn ring: their source addresses differ from every key ever inserted.
        missMask = hitMask;
        missKeys = new int[hitLength * KEY_INTS];
        for (int i = 0; i < hitLength; i++)
        {
            writeKey(missKeys, i, churnLength + i, random);
            if (table.find(srcIp(missKeys, i), dstIp(missKeys, i), srcPort(missKeys, i), dstPort(missKeys, i),
                PROTOCOL_TCP) != FlowTable.MISSING)
            {
                throw new IllegalStateException("miss key " + i + " is in the table");
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
        final int[] keys = hitKeys;
        final int i = hitCursor++ & hitMask;
        return table.find(srcIp(keys, i), dstIp(keys, i), srcPort(keys, i), dstPort(keys, i), PROTOCOL_TCP);
    }

    /**
     * Look up a key that is in the table, where the next key's index depends on this lookup's result, so lookups
     * cannot overlap in the out-of-order core: the latency of one lookup, as a pipeline that does much other work per
     * packet sees it. {@link #lookupHit()} lets the core run ahead to the next keys, as a batched lookup could.
     */
    @Benchmark
    public int lookupHitDependent()
    {
        final int[] keys = hitKeys;
        final int i = dependentCursor & hitMask;
        final int slot = table.find(srcIp(keys, i), dstIp(keys, i), srcPort(keys, i), dstPort(keys, i), PROTOCOL_TCP);
        // Every hit key is present, so slot >= 0 and this adds 1; the JIT cannot know that, so the dependency stays.
        dependentCursor += 1 + (slot >>> 31);
        return slot;
    }

    /**
     * The flow-table work of one established packet: {@link #lookupHitDependent()} followed by
     * {@link FlowTable#touch(int, long, int)}, which writes the entry's counters, so every looked-up line turns dirty
     * and must later be written back.
     */
    @Benchmark
    public int lookupHitAndTouch()
    {
        final int[] keys = hitKeys;
        final int i = dependentCursor & hitMask;
        final int slot = table.find(srcIp(keys, i), dstIp(keys, i), srcPort(keys, i), dstPort(keys, i), PROTOCOL_TCP);
        table.touch(slot, now, 64);
        dependentCursor += 1 + (slot >>> 31);
        return slot;
    }

    /** Look up a key that is not in the table: the probe runs to an empty slot or a closer-to-home entry. */
    @Benchmark
    public int lookupMiss()
    {
        final int[] keys = missKeys;
        final int i = missCursor++ & missMask;
        return table.find(srcIp(keys, i), dstIp(keys, i), srcPort(keys, i), dstPort(keys, i), PROTOCOL_TCP);
    }

    /** Remove the oldest key and insert a new one: the table stays at {@code flows} entries. */
    @Benchmark
    public int removeThenInsert()
    {
        final int[] keys = churnKeys;
        final int old = churnHead & churnMask;
        final int fresh = (churnHead + flows) & churnMask;
        churnHead++;
        table.remove(srcIp(keys, old), dstIp(keys, old), srcPort(keys, old), dstPort(keys, old), PROTOCOL_TCP);
        return table.insert(
            srcIp(keys, fresh), dstIp(keys, fresh), srcPort(keys, fresh), dstPort(keys, fresh), PROTOCOL_TCP, now);
    }

    private static void writeKey(final int[] keys, final int at, final int index, final SplittableRandom random)
    {
        final int base = at * KEY_INTS;
        keys[base] = TcpFrames.scramble(index);
        keys[base + 1] = VIPS[random.nextInt(VIPS.length)];
        keys[base + 2] = 1024 + random.nextInt(65536 - 1024);
        keys[base + 3] = SERVICE_PORTS[random.nextInt(SERVICE_PORTS.length)];
    }

    static int[] shuffledIndexes(final int count, final SplittableRandom random)
    {
        final int[] indexes = new int[count];
        for (int i = 0; i < count; i++)
        {
            indexes[i] = i;
        }
        for (int i = count - 1; i > 0; i--)
        {
            final int j = random.nextInt(i + 1);
            final int swap = indexes[i];
            indexes[i] = indexes[j];
            indexes[j] = swap;
        }
        return indexes;
    }

    private static int srcIp(final int[] keys, final int i)
    {
        return keys[i * KEY_INTS];
    }

    private static int dstIp(final int[] keys, final int i)
    {
        return keys[i * KEY_INTS + 1];
    }

    private static int srcPort(final int[] keys, final int i)
    {
        return keys[i * KEY_INTS + 2];
    }

    private static int dstPort(final int[] keys, final int i)
    {
        return keys[i * KEY_INTS + 3];
    }
}
