package lb.control.appliance;

import java.util.List;
import lb.dataplane.pipeline.DataplaneCounters;
import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.ringbuffer.RecordDescriptor;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * The control side's way into the workers: every command goes to every worker's ring, so all
 * workers apply the same changes in the same order and keep equal copies of the services.
 *
 * <p>Writing is serialised here (control threads only, never the packet path): a command is either
 * written to all rings or to none, and each ring's count of commands written is exact, so a caller
 * can wait for its own command to be taken by comparing a worker's applied + rejected counters
 * with the count its write returned.
 */
final class CommandRings
{
    private final RingBuffer[] rings;
    private final DataplaneCounters[] counters;
    /** Commands written to each ring so far; guarded by this. */
    private final long[] written;

    CommandRings(final List<DataplaneWorker> workers)
    {
        rings = new RingBuffer[workers.size()];
        counters = new DataplaneCounters[workers.size()];
        for (int i = 0; i < rings.length; i++)
        {
            rings[i] = workers.get(i).commands;
            counters[i] = workers.get(i).counters;
        }
        written = new long[rings.length];
    }

    int workers()
    {
        return rings.length;
    }

    /**
     * Writes one command to every worker's ring, or to none.
     *
     * @return per worker, the number of commands written to its ring up to and including this one;
     *         null when a ring has no room (nothing was written)
     */
    synchronized long[] write(final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        // The writers all hold this lock, so free space only grows while we write. A record may
        // need padding up to its own length at the ring's end: twice its length always fits.
        final int needed = 2 * BitUtil.align(length + RecordDescriptor.HEADER_LENGTH, RecordDescriptor.ALIGNMENT);
        for (final RingBuffer ring : rings)
        {
            if (ring.capacity() - ring.size() < needed)
            {
                return null;
            }
        }
        for (int i = 0; i < rings.length; i++)
        {
            if (!rings[i].write(type, buffer, offset, length))
            {
                throw new IllegalStateException("command ring of worker " + i + " refused a command it had room for");
            }
            written[i]++;
        }
        return written.clone();
    }

    /** @return true once every worker has taken (applied or rejected) its first {@code written[i]} commands */
    boolean taken(final long[] written)
    {
        for (int i = 0; i < counters.length; i++)
        {
            if (counters[i].commandsApplied.get() + counters[i].commandsRejected.get() < written[i])
            {
                return false;
            }
        }
        return true;
    }

    /** @return commands rejected, summed over the workers */
    long rejected()
    {
        long sum = 0;
        for (final DataplaneCounters c : counters)
        {
            sum += c.commandsRejected.get();
        }
        return sum;
    }
}
