package lb.dataplane.io;

import java.util.BitSet;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Pins the calling thread to one CPU (sched_setaffinity on the thread itself), so a dataplane
 * worker keeps its caches and the JIT, GC and control threads can be kept off its core. A mask of
 * {@link #MASK_BYTES} covers CPUs 0..1023, as glibc's {@code cpu_set_t}.
 */
public final class CpuAffinity
{
    /** sizeof(cpu_set_t) in glibc: 1024 CPUs. */
    public static final int MASK_BYTES = 128;
    /** The highest CPU number a mask can name. */
    public static final int MAX_CPU = MASK_BYTES * 8 - 1;

    private CpuAffinity()
    {
    }

    /**
     * Runs the calling thread on {@code cpu} only.
     *
     * @param cpu a CPU this process may run on.
     * @throws PacketIoException naming the CPU when the kernel refuses (no such CPU, or not in the
     *                           process's allowed set, e.g. under taskset or a cpuset).
     */
    public static void pinCurrentThread(final int cpu)
    {
        if (cpu < 0 || cpu > MAX_CPU)
        {
            throw new PacketIoException("cpu " + cpu + ": not 0.." + MAX_CPU, 0);
        }
        final Native.Scratch mask = new Native.Scratch(MASK_BYTES);
        mask.buffer.putByte(cpu >>> 3, (byte)(1 << (cpu & 7)));
        if (Native.LIBC.sched_setaffinity(0, MASK_BYTES, mask.pointer) != 0)
        {
            final int errno = Native.errno();
            throw new PacketIoException("cpu " + cpu + ": cannot run a worker there: " + Native.strerror(errno) +
                " (allowed: " + format(currentThreadCpus()) + ")", errno);
        }
    }

    /** @return the CPUs the calling thread may run on. */
    public static BitSet currentThreadCpus()
    {
        final Native.Scratch mask = new Native.Scratch(MASK_BYTES);
        if (Native.LIBC.sched_getaffinity(0, MASK_BYTES, mask.pointer) < 0)
        {
            final int errno = Native.errno();
            throw new PacketIoException("sched_getaffinity: " + Native.strerror(errno), errno);
        }
        final UnsafeBuffer buffer = mask.buffer;
        final BitSet cpus = new BitSet();
        for (int cpu = 0; cpu <= MAX_CPU; cpu++)
        {
            if ((buffer.getByte(cpu >>> 3) & (1 << (cpu & 7))) != 0)
            {
                cpus.set(cpu);
            }
        }
        return cpus;
    }

    /** @return a CPU set the way taskset and /proc print it, e.g. {@code 0-3,6}. */
    public static String format(final BitSet cpus)
    {
        final StringBuilder out = new StringBuilder();
        for (int cpu = cpus.nextSetBit(0); cpu >= 0; cpu = cpus.nextSetBit(cpu + 1))
        {
            final int last = cpus.nextClearBit(cpu) - 1;
            out.append(out.length() == 0 ? "" : ",").append(cpu);
            if (last > cpu)
            {
                out.append('-').append(last);
            }
            cpu = last;
        }
        return out.toString();
    }
}
