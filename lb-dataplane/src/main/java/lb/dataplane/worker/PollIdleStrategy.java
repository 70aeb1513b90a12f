package lb.dataplane.worker;

import lb.dataplane.io.Native;
import lb.dataplane.io.PacketSocket;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import static lb.dataplane.io.PacketConstants.POLLFD_EVENTS_OFFSET;
import static lb.dataplane.io.PacketConstants.POLLFD_FD_OFFSET;
import static lb.dataplane.io.PacketConstants.POLLFD_LENGTH;
import static lb.dataplane.io.PacketConstants.POLLFD_REVENTS_OFFSET;
import static lb.dataplane.io.PacketConstants.POLLERR;
import static lb.dataplane.io.PacketConstants.POLLIN;

/**
 * The default idle strategy of a worker: spin a while (a busy link keeps the worker hot), then
 * yield a while, then block in poll() on all of the worker's sockets until a frame arrives or a
 * short timeout passes. A worker with no traffic therefore costs no CPU, and the first frame after
 * a pause wakes it at once instead of after a park timer. The timeout bounds how late commands
 * and the expiry walk run when no traffic comes.
 */
public final class PollIdleStrategy implements IdleStrategy
{
    public static final int DEFAULT_SPINS = 2_000;
    public static final int DEFAULT_YIELDS = 50;
    public static final int DEFAULT_POLL_TIMEOUT_MS = 10;

    private final int maxSpins;
    private final int maxYields;
    private final int pollTimeoutMs;
    private final Native.Scratch pollFds;
    private final int socketCount;
    private final PacketSocket[] sockets;
    private int spins;
    private int yields;

    public PollIdleStrategy(final PacketSocket... sockets)
    {
        this(DEFAULT_SPINS, DEFAULT_YIELDS, DEFAULT_POLL_TIMEOUT_MS, sockets);
    }

    public PollIdleStrategy(final int maxSpins, final int maxYields, final int pollTimeoutMs, final PacketSocket... sockets)
    {
        this.maxSpins = maxSpins;
        this.maxYields = maxYields;
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
        if (spins < maxSpins)
        {
            spins++;
            Thread.onSpinWait();
        }
        else if (yields < maxYields)
        {
            yields++;
            Thread.yield();
        }
        else
        {
            final UnsafeBuffer fds = pollFds.buffer;
            for (int i = 0; i < socketCount; i++)
            {
                fds.putShort(i * POLLFD_LENGTH + POLLFD_EVENTS_OFFSET, POLLIN);
                fds.putShort(i * POLLFD_LENGTH + POLLFD_REVENTS_OFFSET, (short)0);
            }
            Native.LIBC.poll(pollFds.pointer, socketCount, pollTimeoutMs);
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
        spins = 0;
        yields = 0;
    }

    @Override
    public String alias()
    {
        return "poll";
    }
}
