package lb.dataplane.worker;

import lb.dataplane.flow.FlowTable;
import lb.dataplane.pipeline.BackendStatsTable;
import lb.dataplane.pipeline.ForwardingMode;
import lb.dataplane.pipeline.Ipv6AliasTable;
import lb.dataplane.pipeline.Service;
import lb.dataplane.pipeline.ServiceTable;
import lb.dataplane.sched.AdminState;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.MaglevScheduler;
import lb.dataplane.sched.SchedulerKind;
import lb.dataplane.spread.NextHopGroup;
import lb.dataplane.spread.RouteForwarder;
import lb.dataplane.spread.RouteSlots;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Applies the control side's commands to the worker's own state: services, backend pools, flow
 * timeouts. Runs on the worker thread between packet batches, so the packet path needs no locks.
 * After every change the backend's published {@link BackendStatsTable} slot is rewritten, and the
 * caller refreshes the schedulers ({@link #poolsChanged()}). Established flows are never dropped
 * by a change: a drained backend keeps its flows, and so does a deleted one, the way IPVS keeps a
 * deleted real server's connections: it takes no new flow at once and leaves the pool once it has
 * carried no active flow for the closing timeout ({@link #reapRemoved(long)}). Only MAINT and
 * health loss move flows.
 */
public final class CommandApplier
{
    private static final AdminState[] ADMIN_STATES = AdminState.values();
    private static final SchedulerKind[] KINDS = SchedulerKind.values();

    private final ServiceTable services;
    private final FlowTable flows;
    /** The IPv6 flow table, or null while the worker has none. */
    private FlowTable flows6;
    private final BackendStatsTable stats;
    private final AtomicCounter applied;
    private final AtomicCounter rejected;
    /** MACs learned by the health probes, so a backend added later on a known address is usable at once. */
    private final Long2LongHashMap macByIp = new Long2LongHashMap(0);
    private boolean poolsChanged;
    /** The worker's route services: their next hops take health results like backends. */
    private RouteSlots routes = new RouteSlots();
    /** The worker's IPv6 aliases (shared with its packet pipeline, which only reads them). */
    private Ipv6AliasTable aliases = new Ipv6AliasTable();
    /** Deleted backends not yet freed, as (service id << 32 | handle). */
    private final LongArrayList removing = new LongArrayList();
    /** For each of {@link #removing}, at the same index: since when it carries no active flow, or {@link #BUSY}. */
    private final LongArrayList removingIdleSince = new LongArrayList();
    private static final long BUSY = Long.MIN_VALUE;

    public CommandApplier(final ServiceTable services, final FlowTable flows, final BackendStatsTable stats,
        final AtomicCounter applied, final AtomicCounter rejected)
    {
        this.services = services;
        this.flows = flows;
        this.stats = stats;
        this.applied = applied;
        this.rejected = rejected;
    }

    /** The route services whose next hops follow the health results. */
    public CommandApplier routes(final RouteSlots routes)
    {
        this.routes = routes;
        return this;
    }

    /** The worker's IPv6 flow table, which takes the same timeouts (before the worker starts). */
    public CommandApplier flows6(final FlowTable flows6)
    {
        this.flows6 = flows6;
        return this;
    }

    /** The IPv6 alias table {@code ADD_ADDRESS6} fills (before the worker starts). */
    public CommandApplier aliases(final Ipv6AliasTable aliases)
    {
        this.aliases = aliases;
        return this;
    }

    /** @return the IPv6 alias table this applier fills. */
    public Ipv6AliasTable aliases()
    {
        return aliases;
    }

    /** True once since the last call if any pool changed: the schedulers must refresh. */
    public boolean poolsChanged()
    {
        final boolean changed = poolsChanged;
        poolsChanged = false;
        return changed;
    }

    /** Applies one command; one the worker cannot carry out is counted as rejected. */
    public void apply(final int msgTypeId, final DirectBuffer buffer, final int index)
    {
        final boolean ok;
        switch (msgTypeId)
        {
            case Commands.BACKEND_HEALTH:
                ok = health(Commands.healthIp(buffer, index), Commands.healthUp(buffer, index), Commands.healthMac(buffer, index));
                break;
            case Commands.TIMEOUTS:
                timeouts(flows, buffer, index);
                if (flows6 != null)
                {
                    timeouts(flows6, buffer, index);
                }
                ok = true;
                break;
            case Commands.SET_WEIGHT:
            case Commands.SET_ADMIN_STATE:
            case Commands.BACKEND_CHECK:
            case Commands.ADD_BACKEND:
            case Commands.DEL_BACKEND:
                ok = backend(msgTypeId, buffer.getInt(index + Commands.BACKEND_SERVICE_OFFSET),
                    buffer.getInt(index + Commands.BACKEND_IP_OFFSET), buffer.getInt(index + Commands.BACKEND_PORT_OFFSET),
                    buffer.getInt(index + Commands.BACKEND_VALUE_OFFSET));
                break;
            case Commands.ADD_SERVICE:
                ok = addService(buffer, index);
                break;
            case Commands.DEL_SERVICE:
                ok = services.remove(buffer.getInt(index + Commands.SERVICE_ID_OFFSET)) != null;
                if (ok)
                {
                    stats.clearService(buffer.getInt(index + Commands.SERVICE_ID_OFFSET));
                    forgetRemovingOf(buffer.getInt(index + Commands.SERVICE_ID_OFFSET));
                }
                break;
            case Commands.ADD_ADDRESS6:
                ok = aliases.put(buffer.getInt(index + Commands.ADDRESS6_ALIAS_OFFSET),
                    buffer.getLong(index + Commands.ADDRESS6_HIGH_OFFSET), buffer.getLong(index + Commands.ADDRESS6_LOW_OFFSET));
                break;
            case Commands.ADD_ROUTE:
                ok = addRoute(buffer.getInt(index + Commands.ROUTE_SLOT_OFFSET));
                break;
            case Commands.DEL_ROUTE:
                ok = routes.remove(buffer.getInt(index + Commands.ROUTE_SLOT_OFFSET)) != null;
                break;
            case Commands.ADD_NEXT_HOP:
            case Commands.DEL_NEXT_HOP:
                ok = nextHop(msgTypeId == Commands.ADD_NEXT_HOP, routes.at(buffer.getInt(index + Commands.ROUTE_SLOT_OFFSET)),
                    buffer.getInt(index + Commands.ROUTE_NEXT_HOP_OFFSET));
                break;
            default:
                ok = false;
        }
        (ok ? applied : rejected).incrementRelease();
    }

    private static void timeouts(final FlowTable table, final DirectBuffer buffer, final int index)
    {
        table.setTimeouts(
            buffer.getLong(index + Commands.TIMEOUT_SYN_OFFSET),
            buffer.getLong(index + Commands.TIMEOUT_ESTABLISHED_OFFSET),
            buffer.getLong(index + Commands.TIMEOUT_CLOSING_OFFSET),
            buffer.getLong(index + Commands.TIMEOUT_UDP_OFFSET));
    }

    private boolean health(final int ip, final boolean up, final long mac)
    {
        if (up)
        {
            macByIp.put(ip, mac);
        }
        else
        {
            // A dead address must not lend its old MAC to a backend added on it later.
            macByIp.remove(ip);
        }
        for (int id = 0; id < ServiceTable.MAX_SERVICES; id++)
        {
            final Service service = services.byId(id);
            if (service == null)
            {
                continue;
            }
            final BackendPool pool = service.pool();
            for (int slot = 0; slot < pool.capacity(); slot++)
            {
                final int handle = pool.handleAt(slot);
                if (handle != BackendPool.NO_HANDLE && pool.ip(handle) == ip)
                {
                    pool.setHealthy(handle, up);
                    if (up)
                    {
                        pool.setMac(handle, mac);
                    }
                    stats.publish(id, pool, handle);
                    poolsChanged = true;
                }
            }
        }
        for (final RouteForwarder route : routes.active())
        {
            final int hop = route.group().indexOf(ip);
            if (hop != NextHopGroup.NO_HOP)
            {
                route.nextHopHealth(hop, up, mac);
            }
        }
        return true;
    }

    /** Installs the route the control thread offered; next hops with known MACs are usable at once. */
    private boolean addRoute(final int slot)
    {
        final RouteForwarder route = routes.install(slot);
        if (route == null)
        {
            return false;
        }
        for (int hop = 0; hop < route.group().size(); hop++)
        {
            useKnownMac(route, hop);
        }
        return true;
    }

    private boolean nextHop(final boolean add, final RouteForwarder route, final int ip)
    {
        if (route == null)
        {
            return false;
        }
        if (add)
        {
            final int hop = route.group().add(ip);
            if (hop == NextHopGroup.NO_HOP)
            {
                return false;
            }
            useKnownMac(route, hop);
            return true;
        }
        final int hop = route.group().indexOf(ip);
        if (hop == NextHopGroup.NO_HOP || route.group().retired(hop))
        {
            return false;
        }
        route.retireNextHop(hop);
        return true;
    }

    private void useKnownMac(final RouteForwarder route, final int hop)
    {
        final long mac = macByIp.get(route.group().address(hop));
        if (mac != 0)
        {
            route.nextHopHealth(hop, true, mac);
        }
    }

    private boolean backend(final int type, final int serviceId, final int ip, final int port, final int value)
    {
        final Service service = services.byId(serviceId);
        if (service == null)
        {
            return false;
        }
        final BackendPool pool = service.pool();
        if (type == Commands.ADD_BACKEND)
        {
            final int existing = pool.find(ip, port);
            final int removingAt = existing == BackendPool.NO_HANDLE ? -1 : removing.indexOf(key(serviceId, existing));
            if (removingAt >= 0)
            {
                forgetRemoving(removingAt);
                // Deleted but still carrying flows: it comes back as it is, with the new weight, and
                // passing its check, as the control side checks an added backend afresh.
                pool.setAdminState(existing, AdminState.READY);
                pool.setWeight(existing, value);
                pool.setCheckPassing(existing, true);
                stats.publish(serviceId, pool, existing);
                poolsChanged = true;
                return true;
            }
            final int handle = pool.add(ip, port, value);
            if (handle == BackendPool.NO_HANDLE)
            {
                return false;
            }
            final long mac = macByIp.get(ip);
            if (mac != 0)
            {
                pool.setMac(handle, mac);
            }
            stats.publish(serviceId, pool, handle);
            poolsChanged = true;
            return true;
        }
        final int handle = pool.find(ip, port);
        if (handle == BackendPool.NO_HANDLE || removing.containsLong(key(serviceId, handle)))
        {
            return false;
        }
        switch (type)
        {
            case Commands.SET_WEIGHT:
                pool.setWeight(handle, value);
                break;
            case Commands.SET_ADMIN_STATE:
                pool.setAdminState(handle, ADMIN_STATES[value]);
                break;
            case Commands.BACKEND_CHECK:
                pool.setCheckPassing(handle, value != 0);
                break;
            default:
                // Even with no active flow it stays (draining) for the closing timeout: a connection that
                // ended just now still has its last ACK and its FIN retransmissions to deliver there.
                stats.remove(serviceId, handle);
                poolsChanged = true;
                pool.setAdminState(handle, AdminState.DRAIN);
                removing.addLong(key(serviceId, handle));
                removingIdleSince.addLong(BUSY);
                return true;
        }
        stats.publish(serviceId, pool, handle);
        poolsChanged = true;
        return true;
    }

    private static long key(final int serviceId, final int handle)
    {
        return ((long)serviceId << 32) | (handle & 0xFFFF_FFFFL);
    }

    /**
     * Frees deleted backends that have carried no active flow for the closing timeout: a flow stops
     * counting as active at its second FIN, before its last ACK, and the backend may retransmit its
     * FIN for a while; both must still reach it, not be re-picked to another backend (which would
     * answer with a reset). Called every duty cycle while {@link #removingCount()} is not 0.
     */
    public void reapRemoved(final long nowNanos)
    {
        final long linger = flows.timeoutNanos(FlowTable.TCP_CLOSING);
        for (int i = removing.size() - 1; i >= 0; i--)
        {
            final long key = removing.getLong(i);
            final Service service = services.byId((int)(key >>> 32));
            final int handle = (int)key;
            if (service == null || !service.pool().isLive(handle))
            {
                forgetRemoving(i);
            }
            else if (service.pool().activeFlows(handle) > 0)
            {
                removingIdleSince.setLong(i, BUSY);
            }
            else if (removingIdleSince.getLong(i) == BUSY)
            {
                removingIdleSince.setLong(i, nowNanos);
            }
            else if (nowNanos - removingIdleSince.getLong(i) >= linger)
            {
                service.pool().remove(handle);
                forgetRemoving(i);
                poolsChanged = true;
            }
        }
    }

    /** A deleted service's deleted backends: its id may be reused, with handles that repeat the old pool's. */
    private void forgetRemovingOf(final int serviceId)
    {
        for (int i = removing.size() - 1; i >= 0; i--)
        {
            if ((int)(removing.getLong(i) >>> 32) == serviceId)
            {
                forgetRemoving(i);
            }
        }
    }

    private void forgetRemoving(final int index)
    {
        removing.fastUnorderedRemove(index);
        removingIdleSince.fastUnorderedRemove(index);
    }

    /** Deleted backends not yet freed. */
    public int removingCount()
    {
        return removing.size();
    }

    private boolean addService(final DirectBuffer buffer, final int index)
    {
        final int ref = buffer.getInt(index + Commands.SERVICE_ID_OFFSET);
        final int id = ref & Service.ID_MASK;
        final int vip = buffer.getInt(index + Commands.SERVICE_VIP_OFFSET);
        final int port = buffer.getInt(index + Commands.SERVICE_PORT_OFFSET);
        final int protocol = buffer.getInt(index + Commands.SERVICE_PROTOCOL_OFFSET);
        final SchedulerKind kind = KINDS[buffer.getInt(index + Commands.SERVICE_SCHEDULER_OFFSET)];
        final int tableSize = buffer.getInt(index + Commands.SERVICE_TABLE_SIZE_OFFSET);
        final ForwardingMode mode = ForwardingMode.fromOrdinal(buffer.getInt(index + Commands.SERVICE_MODE_OFFSET));
        final String name = buffer.getStringAscii(index + Commands.SERVICE_NAME_OFFSET);
        if (services.byId(id) != null || services.find(vip, port, protocol) != null)
        {
            return false;
        }
        services.add(newService(ref, name, vip, port, protocol, kind, tableSize, mode));
        stats.clearService(id);
        return true;
    }

    /** Builds a service with an empty pool; its backends come with ADD_BACKEND (or at start, from the config). */
    public static Service newService(final int ref, final String name, final int vip, final int port, final int protocol,
        final SchedulerKind kind, final int maglevTableSize, final ForwardingMode mode)
    {
        final boolean maglev = kind == SchedulerKind.MAGLEV;
        final int capacity = maglev ?
            Math.max(1, Math.min(BackendStatsTable.MAX_BACKENDS, maglevTableSize / MaglevScheduler.MIN_POSITIONS_PER_BACKEND)) :
            BackendStatsTable.MAX_BACKENDS;
        final BackendPool pool = new BackendPool(capacity);
        return new Service(ref, name, vip, port, protocol, pool,
            maglev ? new MaglevScheduler(pool, maglevTableSize) : kind.create(pool), mode);
    }
}
