package lb.dataplane.io;

import java.util.function.Supplier;

import static lb.dataplane.io.PacketConstants.*;

/**
 * Runs code with the current thread inside a named network namespace ({@code ip netns add NAME},
 * i.e. {@code /var/run/netns/NAME}) and switches the thread back afterwards. Sockets opened inside
 * stay in that namespace for their whole life, so one process can own packet sockets in several
 * namespaces. setns(2) with CLONE_NEWNET affects only the calling thread; it needs CAP_SYS_ADMIN.
 */
public final class NetNs
{
    private static final String NETNS_DIR = "/var/run/netns/";
    private static final String CURRENT_THREAD_NS = "/proc/thread-self/ns/net";

    private NetNs()
    {
    }

    /**
     * Run a block inside a namespace.
     *
     * @param name namespace name as given to {@code ip netns add}.
     * @param body what to run.
     */
    public static void run(final String name, final Runnable body)
    {
        call(name, () ->
        {
            body.run();
            return null;
        });
    }

    /**
     * Run a block inside a namespace and return its result.
     *
     * @param name namespace name as given to {@code ip netns add}.
     * @param body what to run.
     * @param <T>  result type.
     * @return the block's result.
     * @throws PacketIoException if the namespace cannot be entered.
     * @throws IllegalStateException if the thread cannot return to its namespace (it must not be reused).
     */
    public static <T> T call(final String name, final Supplier<T> body)
    {
        if (null == name || name.isEmpty() || name.indexOf('/') >= 0 || name.equals(".") || name.equals(".."))
        {
            throw new PacketIoException("network namespace '" + name + "': not a valid name", 0);
        }
        final LibC libc = Native.LIBC;
        final int home = libc.open(CURRENT_THREAD_NS, O_RDONLY | O_CLOEXEC);
        if (home < 0)
        {
            throw PacketIoException.ofErrno("network namespace: cannot open " + CURRENT_THREAD_NS, Native.errno());
        }
        try
        {
            final int target = libc.open(NETNS_DIR + name, O_RDONLY | O_CLOEXEC);
            if (target < 0)
            {
                throw PacketIoException.ofErrno("network namespace '" + name + "'", Native.errno());
            }
            try
            {
                if (libc.setns(target, CLONE_NEWNET) < 0)
                {
                    throw PacketIoException.ofErrno("network namespace '" + name + "': setns", Native.errno());
                }
            }
            finally
            {
                libc.close(target);
            }

            try
            {
                return body.get();
            }
            finally
            {
                if (libc.setns(home, CLONE_NEWNET) < 0)
                {
                    throw new IllegalStateException("network namespace '" + name +
                        "': cannot switch the thread back: " + Native.strerror(Native.errno()));
                }
            }
        }
        finally
        {
            libc.close(home);
        }
    }
}
