package lb.dataplane.io;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Off-heap memory for big, randomly accessed tables (the flow table), backed by transparent huge
 * pages when the kernel allows it. A 170 MB flow table in 4 KiB pages costs a TLB miss, and in a
 * virtual machine a two-level page walk, on nearly every lookup; in 2 MiB pages the whole table
 * needs a few hundred TLB entries. The mapping is anonymous and 2 MiB aligned, and is advised
 * with MADV_HUGEPAGE before first touch, which works with THP set to "madvise" (the default here)
 * as well as "always". The memory lives as long as the process.
 */
public final class HugePageMemory
{
    static final long HUGE_PAGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;

    private HugePageMemory()
    {
    }

    /**
     * Maps {@code bytes} of zeroed memory advised for huge pages.
     *
     * @return the buffer, or null when the kernel refused the mapping (the caller falls back).
     */
    public static UnsafeBuffer allocate(final long bytes)
    {
        if (bytes <= 0 || bytes > Integer.MAX_VALUE)
        {
            return null;
        }
        final long mapped = bytes + HUGE_PAGE;
        final long address = Native.LIBC.mmap(null, mapped, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0);
        if (address == -1 || address == 0)
        {
            return null;
        }
        final long aligned = (address + HUGE_PAGE - 1) & -HUGE_PAGE;
        // Advice only: if the kernel says no, the memory still works in small pages.
        Native.LIBC.madvise(aligned, (bytes + HUGE_PAGE - 1) & -HUGE_PAGE, MADV_HUGEPAGE);
        return new UnsafeBuffer(aligned, (int)bytes);
    }

    /** Huge pages the process holds now (AnonHugePages of /proc/self/smaps_rollup), in bytes; -1 if unknown. */
    public static long anonHugePagesBytes()
    {
        try
        {
            for (final String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/smaps_rollup")))
            {
                if (line.startsWith("AnonHugePages:"))
                {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        }
        catch (final java.io.IOException | NumberFormatException ex)
        {
            return -1;
        }
        return -1;
    }
}
