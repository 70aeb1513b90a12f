package lb.dataplane.worker;

import lb.dataplane.io.Native;
import lb.dataplane.io.PacketSocket;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import static lb.dataplane.io.PacketConstants.POLLFD_EVENTS_OFFSET;
import static lb.dataplane.io.PacketConstants.POLLFD_FD_OFFSET;
import static lb.dataplane.io.PacketConstants.POLLFD_LENGTH;
import static lb.dataplane.io.PacketConstants.POLLFD_REVENTS_OFFSET;
import static lb.dataplane.io.PacketConstants.POLLERR;
import static lb.dataplane.io.PacketConstants.POLLIN;

/**
 * The default idle strategy of a worker: spin for a short time (a frame that comes within it is
 * handled without a wake-up), then block in poll() on all of the worker's sockets until a frame
 * arrives or a short timeout passes. A worker with no traffic costs no CPU, and the first frame
 * after a pause wakes it at once instead of after a park timer. The timeout bounds how late
 * commands and the expiry walk run when no traffic comes.
 * <p>
 * The spin is bounded in time, not in iterations: a spin of 2,000 duty cycles (about 300 us) plus
 * 50 yields kept the worker awake between frames at any rate above a few kpps, so it burned its
 * whole core from 45 kpps on (benchmarks/RESULTS.md, "Idle spin").
 */
public final class PollIdleStrategy implements IdleStrategy
{
    public static final int DEFAULT_POLL_TIMEOUT_MS = 10;

    private final long spinNanos;
    private final int pollTimeoutMs;
    private final AtomicCounter sleeps;
    private final Native.Scratch pollFds;
    private final int socketCount;
    private final PacketSocket[] sockets;
    private boolean spinning;
    private long spinStart;

    /**
     * @param spinNanos how long to spin on empty rings before sleeping (0: sleep at once).
     * @param sleeps    counts the sleeps (each costs a wake-up).
     * @param sockets   the worker's sockets: any frame on one of them ends the sleep.
     */
    public PollIdleStrategy(final long spinNanos, final AtomicCounter sleeps, final PacketSocket... sockets)
    {
        this(spinNanos, DEFAULT_POLL_TIMEOUT_MS, sleeps, sockets);
    }

    /**
     * @param spinNanos     how long to spin on empty rings before sleeping (0: sleep at once).
     * @param pollTimeoutMs the longest sleep: bounds how late commands and the expiry walk run.
     * @param sleeps        counts the sleeps (each costs a wake-up).
     * @param sockets       the worker's sockets: any frame on one of them ends the sleep.
     */
    public PollIdleStrategy(final long spinNanos, final int pollTimeoutMs, final AtomicCounter sleeps,
        final PacketSocket... sockets)
    {
        this.spinNanos = spinNanos;
        this.sleeps = sleeps;
        this.pollTimeoutMs = pollTimeoutMs;
        this.socketCount = sockets.length;
        this.sockets = sockets.clone();
        this.pollFds = new Native.Scratch(POLLFD_LENGTH * sockets.length);
        for (int i = 0; i < sockets.length; i++)
        {
            pollFds.buffer.putInt(i * POLLFD_LENGTH + POLLFD_FD_OFFSET, sockets[i].fd());
        }
    }

    @Override
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            reset();
        }
        else
        {
            idle();
        }
    }

    @Override
    public void idle()
    {
        if (spinNanos > 0 && !spinning)
        {
            spinning = true;
            spinStart = System.nanoTime();
            Thread.onSpinWait();
        }
        else if (spinNanos > 0 && System.nanoTime() - spinStart < spinNanos)
        {
            Thread.onSpinWait();
        }
        else
        {
            final UnsafeBuffer fds = pollFds.buffer;
            for (int i = 0; i < socketCount; i++)
            {
                fds.putShort(i * POLLFD_LENGTH + POLLFD_EVENTS_OFFSET, POLLIN);
                fds.putShort(i * POLLFD_LENGTH + POLLFD_REVENTS_OFFSET, (short)0);
            }
            sleeps.incrementRelease();
            Native.LIBC.poll(pollFds.pointer, socketCount, pollTimeoutMs);
            spinning = false;
            for (int i = 0; i < socketCount; i++)
            {
                if ((fds.getShort(i * POLLFD_LENGTH + POLLFD_REVENTS_OFFSET) & POLLERR) != 0)
                {
                    // A pending socket error (link went down) would wake poll() at once forever: clear it.
                    sockets[i].waitForInput(0);
                }
            }
        }
    }

    @Override
    public void reset()
    {
        spinning = false;
    }

    @Override
    public String alias()
    {
        return "poll";
    }
}
