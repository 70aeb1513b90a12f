package lb.dataplane.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuAffinityTest
{
    /** What the kernel says about the calling thread, not what the library says. */
    private static String kernelCpusOfThisThread() throws Exception
    {
        for (final String line : Files.readAllLines(Path.of("/proc/thread-self/status")))
        {
            if (line.startsWith("Cpus_allowed_list:"))
            {
                return line.substring("Cpus_allowed_list:".length()).trim();
            }
        }
        throw new AssertionError("no Cpus_allowed_list in /proc/thread-self/status");
    }

    @Test
    void pinsOnlyTheCallingThreadToTheLastAllowedCpu() throws Exception
    {
        final BitSet before = CpuAffinity.currentThreadCpus();
        assertEquals(kernelCpusOfThisThread(), CpuAffinity.format(before));
        final int cpu = before.length() - 1;
        final AtomicReference<Object> seen = new AtomicReference<>();
        final Thread worker = new Thread(() ->
        {
            try
            {
                CpuAffinity.pinCurrentThread(cpu);
                seen.set(kernelCpusOfThisThread());
            }
            catch (final Throwable t)
            {
                seen.set(t);
            }
        });
        worker.start();
        worker.join(10_000);
        assertEquals(Integer.toString(cpu), seen.get());
        assertEquals(before, CpuAffinity.currentThreadCpus(), "the test thread itself is not pinned");
    }

    @Test
    void aCpuOutsideTheMachineIsRefusedByName()
    {
        final int tooHigh = CpuAffinity.MAX_CPU;
        final PacketIoException ex = assertThrows(PacketIoException.class, () -> runPinned(tooHigh));
        assertTrue(ex.getMessage().startsWith("cpu " + tooHigh + ": cannot run a worker there: Invalid argument (allowed: "),
            ex.getMessage());
        assertEquals("cpu -1: not 0..1023", assertThrows(PacketIoException.class, () -> runPinned(-1)).getMessage());
    }

    @Test
    void formatsRangesAsTheKernelDoes()
    {
        final BitSet cpus = new BitSet();
        cpus.set(0, 4);
        cpus.set(6);
        cpus.set(8, 10);
        assertEquals("0-3,6,8-9", CpuAffinity.format(cpus));
        assertEquals("", CpuAffinity.format(new BitSet()));
    }

    /** Pins a fresh thread (never the test runner's) and rethrows what it threw. */
    private static void runPinned(final int cpu) throws Exception
    {
        final AtomicReference<RuntimeException> thrown = new AtomicReference<>();
        final Thread t = new Thread(() ->
        {
            try
            {
                CpuAffinity.pinCurrentThread(cpu);
            }
            catch (final RuntimeException ex)
            {
                thrown.set(ex);
            }
        });
        t.start();
        t.join(10_000);
        if (thrown.get() != null)
        {
            throw thrown.get();
        }
    }
}
