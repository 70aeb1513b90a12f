package lb.dataplane.pipeline;

import org.agrona.collections.IntHashSet;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The services of one worker, found by (VIP, port, protocol) on the forward path and by id from a
 * flow entry on the return path. Also knows every address lb answers ARP and ICMP echo for on
 * the client side (the VIPs and lb's own client-side address).
 */
public final class ServiceTable
{
    /** Upper bound on services; ids index a plain array. */
    public static final int MAX_SERVICES = BackendStatsTable.MAX_SERVICES;

    private final Service[] byId = new Service[MAX_SERVICES];
    private final Long2ObjectHashMap<Service> byKey = new Long2ObjectHashMap<>();
    private final IntHashSet vips = new IntHashSet();
    private int count;

    static long key(final int vip, final int port, final int protocol)
    {
        return ((vip & 0xFFFF_FFFFL) << 32) | ((long)port << 8) | protocol;
    }

    /** Adds a service; its id must be unused and its key unique. */
    public void add(final Service service)
    {
        if (service.id() < 0 || service.id() >= MAX_SERVICES || byId[service.id()] != null)
        {
            throw new IllegalArgumentException("service id in use or out of range: " + service.id());
        }
        final long key = key(service.vip(), service.port(), service.protocol());
        if (byKey.containsKey(key))
        {
            throw new IllegalArgumentException("duplicate service " + service.name());
        }
        byId[service.id()] = service;
        byKey.put(key, service);
        count++;
        rebuildVips();
    }

    /** Removes a service; flows that still name it are dropped on their next packet. */
    public Service remove(final int id)
    {
        final Service service = id >= 0 && id < MAX_SERVICES ? byId[id] : null;
        if (service != null)
        {
            byId[id] = null;
            byKey.remove(key(service.vip(), service.port(), service.protocol()));
            count--;
            rebuildVips();
        }
        return service;
    }

    /** The service listening on VIP:port/protocol, or null. Allocation-free. */
    public Service find(final int vip, final int port, final int protocol)
    {
        return byKey.get(key(vip, port, protocol));
    }

    /** The service with this id, or null. */
    public Service byId(final int id)
    {
        return id >= 0 && id < MAX_SERVICES ? byId[id] : null;
    }

    /** The service a flow entry names, or null when that service is gone (even if its id was reused). */
    public Service byRef(final int ref)
    {
        final Service service = byId[ref & Service.ID_MASK];
        return service != null && service.ref() == ref ? service : null;
    }

    /** True when some service uses this address as its VIP. */
    public boolean isVip(final int ip)
    {
        return vips.contains(ip);
    }

    public int count()
    {
        return count;
    }

    /** Calls the consumer for each service, in id order. */
    public void forEach(final java.util.function.Consumer<Service> consumer)
    {
        for (final Service s : byId)
        {
            if (s != null)
            {
                consumer.accept(s);
            }
        }
    }

    private void rebuildVips()
    {
        vips.clear();
        for (final Service s : byId)
        {
            if (s != null)
            {
                vips.add(s.vip());
            }
        }
    }
}
