package lb.dataplane.pipeline;

import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.Scheduler;

/**
 * One virtual service: VIP:port/protocol, its backend pool and the scheduler that picks from it.
 * Owned by the dataplane worker; the control side changes it only through the command ring.
 */
public final class Service
{
    /** The low bits of a ref are the service's id, an index below {@link ServiceTable#MAX_SERVICES}. */
    public static final int ID_BITS = 8;
    public static final int ID_MASK = (1 << ID_BITS) - 1;

    /**
     * What flow entries store: the id plus an epoch above it. An id is reused after a service is
     * deleted; the epoch is not, so flows of the deleted service never find its successor.
     */
    private final int ref;
    private final String name;
    private final int vip;
    private final int port;
    private final int protocol;
    private final BackendPool pool;
    private final ForwardingMode mode;
    private Scheduler scheduler;

    /**
     * @param ref the id (0..255), or the id with an epoch above it ({@code epoch << ID_BITS | id})
     */
    public Service(final int ref, final String name, final int vip, final int port, final int protocol,
        final BackendPool pool, final Scheduler scheduler)
    {
        this(ref, name, vip, port, protocol, pool, scheduler, ForwardingMode.NAT);
    }

    /**
     * @param ref  the id (0..255), or the id with an epoch above it ({@code epoch << ID_BITS | id})
     * @param mode how packets reach the backends
     */
    public Service(final int ref, final String name, final int vip, final int port, final int protocol,
        final BackendPool pool, final Scheduler scheduler, final ForwardingMode mode)
    {
        this.mode = mode;
        this.ref = ref;
        this.name = name;
        this.vip = vip;
        this.port = port;
        this.protocol = protocol;
        this.pool = pool;
        this.scheduler = scheduler;
    }

    public int id()
    {
        return ref & ID_MASK;
    }

    /** The id with its epoch: what a flow entry stores to name its service. */
    public int ref()
    {
        return ref;
    }

    public String name()
    {
        return name;
    }

    public int vip()
    {
        return vip;
    }

    public int port()
    {
        return port;
    }

    /** IP protocol number: 6 for TCP, 17 for UDP. */
    public int protocol()
    {
        return protocol;
    }

    public BackendPool pool()
    {
        return pool;
    }

    public Scheduler scheduler()
    {
        return scheduler;
    }

    public void scheduler(final Scheduler scheduler)
    {
        this.scheduler = scheduler;
    }

    public ForwardingMode mode()
    {
        return mode;
    }

    /**
     * True when a TCP segment without a flow entry may start one: the service's replies bypass lb
     * and its scheduler gives every lb instance the same answer for a flow (Maglev, source
     * hashing), so the flow another instance (or this one before a restart) carried is sent to
     * the backend it was already on.
     */
    public boolean recoversFlows()
    {
        return mode.oneWay() && scheduler.kind().consistent();
    }

    /** The port a backend listens on: its own when set, else the service port. */
    public int backendPort(final int backendHandle)
    {
        final int p = pool.port(backendHandle);
        return p == 0 ? port : p;
    }
}
