package lb.dataplane.pipeline;

import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.Scheduler;

/**
 * One virtual service: VIP:port/protocol, its backend pool and the scheduler that picks from it.
 * Owned by the dataplane worker; the control side changes it only through the command ring.
 */
public final class Service
{
    private final int id;
    private final String name;
    private final int vip;
    private final int port;
    private final int protocol;
    private final BackendPool pool;
    private Scheduler scheduler;

    public Service(final int id, final String name, final int vip, final int port, final int protocol,
        final BackendPool pool, final Scheduler scheduler)
    {
        this.id = id;
        this.name = name;
        this.vip = vip;
        this.port = port;
        this.protocol = protocol;
        this.pool = pool;
        this.scheduler = scheduler;
    }

    public int id()
    {
        return id;
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

    /** The port a backend listens on: its own when set, else the service port. */
    public int backendPort(final int backendHandle)
    {
        final int p = pool.port(backendHandle);
        return p == 0 ? port : p;
    }
}
