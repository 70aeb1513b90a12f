package lb.benchmarks;

import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.Scheduler;
import lb.dataplane.sched.SchedulerKind;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One {@link Scheduler#pick(int, int)} per operation, for each {@link SchedulerKind}, over a pool (default
 * capacity, 256 slots) holding {@value #BACKENDS} backends that can all take new flows: healthy, READY, MAC known,
 * weights 1..10. The least-connection kinds see unequal active-flow counts, so their scan compares real values.
 * Client address and flow hash come from pre-generated arrays and change on every pick.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SchedulerBenchmark
{
    static final int BACKENDS = 10;
    private static final int INPUTS = 4096;
    private static final int INPUT_MASK = INPUTS - 1;

    /** The scheduler kind, by its enum name; JMH runs every constant. */
    @Param
    public SchedulerKind kind;

    private Scheduler scheduler;
    private final int[] clientIps = new int[INPUTS];
    private final int[] flowHashes = new int[INPUTS];
    private int cursor;

    @Setup(Level.Trial)
    public void setUp()
    {
        final SplittableRandom random = new SplittableRandom(0x5C4E_D01EL);
        final BackendPool pool = new BackendPool();
        for (int i = 0; i < BACKENDS; i++)
        {
            final int handle = pool.add(0xC613_0001 + i, 0, 1 + i); // 198.19.0.1.., weights 1..10
            pool.setMac(handle, 0x0200_0000_1000L + i);
            pool.setHealthy(handle, true);
            for (int flow = random.nextInt(1000); flow > 0; flow--)
            {
                pool.incrementActive(handle);
            }
        }
        if (pool.eligibleCount() != BACKENDS)
        {
            throw new IllegalStateException("eligible backends: " + pool.eligibleCount());
        }

        scheduler = kind.create(pool);
        scheduler.refresh();
        for (int i = 0; i < INPUTS; i++)
        {
            clientIps[i] = 0xC612_0000 | random.nextInt(1 << 16);
            flowHashes[i] = random.nextInt();
        }
        for (int i = 0; i < INPUTS; i++)
        {
            if (!pool.canTakeNewFlows(scheduler.pick(clientIps[i], flowHashes[i])))
            {
                throw new IllegalStateException(kind + " picked no eligible backend");
            }
        }
    }

    @Benchmark
    public int pick()
    {
        final int i = cursor++ & INPUT_MASK;
        return scheduler.pick(clientIps[i], flowHashes[i]);
    }
}
