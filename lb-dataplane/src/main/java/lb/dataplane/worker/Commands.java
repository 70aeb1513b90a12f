package lb.dataplane.worker;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Message types and layouts on the rings between the control thread and a dataplane worker.
 * Every message is a few fixed fields at named offsets, written and read in place: the worker
 * never allocates to read a command.
 *
 * <p>Control to worker (the command ring, many producers: the health prober and the control
 * socket):
 * <ul>
 *   <li>{@link #BACKEND_HEALTH}: a backend address answered (or stopped answering) ARP probes.</li>
 *   <li>{@link #BACKEND_CHECK}: one backend of one service passed (value 1) or failed (0) its TCP check.</li>
 *   <li>{@link #TIMEOUTS}: new idle timeouts for the flow table.</li>
 *   <li>{@link #SET_WEIGHT}, {@link #SET_ADMIN_STATE}, {@link #ADD_BACKEND}, {@link #DEL_BACKEND}:
 *       one backend of one service, by address and port.</li>
 *   <li>{@link #ADD_SERVICE}, {@link #DEL_SERVICE}.</li>
 *   <li>{@link #ADD_ADDRESS6}: names an IPv6 address by its alias ({@code lb.dataplane.pipeline.Ipv6AliasTable});
 *       sent before any command that uses the alias.</li>
 *   <li>{@link #ADD_ROUTE}, {@link #DEL_ROUTE}: a route service by its slot (the control thread offers the
 *       route itself in the worker's {@code RouteSlots}); {@link #ADD_NEXT_HOP}, {@link #DEL_NEXT_HOP}.</li>
 * </ul>
 * Worker to control (the event ring, one producer per worker): {@link #SERVER_FRAME}, a whole
 * frame as received on the server side: an ARP frame (worker 0) or a backend's answer to a TCP
 * health check (any worker: the steering hashes those by the check's port).
 */
public final class Commands
{
    public static final int BACKEND_HEALTH = 1;
    public static final int TIMEOUTS = 2;
    public static final int SET_WEIGHT = 3;
    public static final int SET_ADMIN_STATE = 4;
    public static final int ADD_BACKEND = 5;
    public static final int DEL_BACKEND = 6;
    public static final int ADD_SERVICE = 7;
    public static final int DEL_SERVICE = 8;
    public static final int ADD_ROUTE = 9;
    public static final int DEL_ROUTE = 10;
    public static final int ADD_NEXT_HOP = 11;
    public static final int DEL_NEXT_HOP = 12;
    public static final int BACKEND_CHECK = 13;
    public static final int ADD_ADDRESS6 = 14;
    public static final int SERVER_FRAME = 100;

    /** Backend commands: int service id, int ip, int port, int value (weight, AdminState ordinal, or check up 0/1). */
    public static final int BACKEND_SERVICE_OFFSET = 0;
    public static final int BACKEND_IP_OFFSET = 4;
    public static final int BACKEND_PORT_OFFSET = 8;
    public static final int BACKEND_VALUE_OFFSET = 12;
    public static final int BACKEND_LENGTH = 16;

    /**
     * ADD_SERVICE: int service ref (id with its epoch, see Service#ref), int vip, int port, int protocol, int SchedulerKind ordinal,
     * int Maglev table size, int ForwardingMode ordinal, then the name as a length-prefixed ASCII string. DEL_SERVICE: the id.
     */
    public static final int SERVICE_ID_OFFSET = 0;
    public static final int SERVICE_VIP_OFFSET = 4;
    public static final int SERVICE_PORT_OFFSET = 8;
    public static final int SERVICE_PROTOCOL_OFFSET = 12;
    public static final int SERVICE_SCHEDULER_OFFSET = 16;
    public static final int SERVICE_TABLE_SIZE_OFFSET = 20;
    public static final int SERVICE_MODE_OFFSET = 24;
    public static final int SERVICE_NAME_OFFSET = 28;

    /** BACKEND_HEALTH: int ip, int up (0/1), long mac (48 bits; 0 when down). */
    public static final int HEALTH_IP_OFFSET = 0;
    public static final int HEALTH_UP_OFFSET = 4;
    public static final int HEALTH_MAC_OFFSET = 8;
    public static final int HEALTH_LENGTH = 16;

    /** TIMEOUTS: long syn, long established, long closing, long udp (nanoseconds). */
    public static final int TIMEOUT_SYN_OFFSET = 0;
    public static final int TIMEOUT_ESTABLISHED_OFFSET = 8;
    public static final int TIMEOUT_CLOSING_OFFSET = 16;
    public static final int TIMEOUT_UDP_OFFSET = 24;
    public static final int TIMEOUTS_LENGTH = 32;

    /** ADD_ROUTE, DEL_ROUTE: int slot. ADD_NEXT_HOP, DEL_NEXT_HOP: int slot, int next-hop address. */
    public static final int ADDRESS6_ALIAS_OFFSET = 0;
    public static final int ADDRESS6_HIGH_OFFSET = 8;
    public static final int ADDRESS6_LOW_OFFSET = 16;
    public static final int ADDRESS6_LENGTH = 24;

    public static final int ROUTE_SLOT_OFFSET = 0;
    public static final int ROUTE_NEXT_HOP_OFFSET = 4;
    public static final int ROUTE_LENGTH = 8;

    private Commands()
    {
    }

    public static int encodeHealth(final MutableDirectBuffer buffer, final int offset, final int ip, final boolean up,
        final long mac)
    {
        buffer.putInt(offset + HEALTH_IP_OFFSET, ip);
        buffer.putInt(offset + HEALTH_UP_OFFSET, up ? 1 : 0);
        buffer.putLong(offset + HEALTH_MAC_OFFSET, mac);
        return HEALTH_LENGTH;
    }

    public static int healthIp(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + HEALTH_IP_OFFSET);
    }

    public static boolean healthUp(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + HEALTH_UP_OFFSET) != 0;
    }

    public static long healthMac(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + HEALTH_MAC_OFFSET);
    }

    public static int encodeBackend(final MutableDirectBuffer buffer, final int offset, final int serviceId,
        final int ip, final int port, final int value)
    {
        buffer.putInt(offset + BACKEND_SERVICE_OFFSET, serviceId);
        buffer.putInt(offset + BACKEND_IP_OFFSET, ip);
        buffer.putInt(offset + BACKEND_PORT_OFFSET, port);
        buffer.putInt(offset + BACKEND_VALUE_OFFSET, value);
        return BACKEND_LENGTH;
    }

    public static int encodeService(final MutableDirectBuffer buffer, final int offset, final int serviceId,
        final int vip, final int port, final int protocol, final int schedulerKind, final int tableSize, final int mode,
        final String name)
    {
        buffer.putInt(offset + SERVICE_MODE_OFFSET, mode);
        buffer.putInt(offset + SERVICE_ID_OFFSET, serviceId);
        buffer.putInt(offset + SERVICE_VIP_OFFSET, vip);
        buffer.putInt(offset + SERVICE_PORT_OFFSET, port);
        buffer.putInt(offset + SERVICE_PROTOCOL_OFFSET, protocol);
        buffer.putInt(offset + SERVICE_SCHEDULER_OFFSET, schedulerKind);
        buffer.putInt(offset + SERVICE_TABLE_SIZE_OFFSET, tableSize);
        return SERVICE_NAME_OFFSET + buffer.putStringAscii(offset + SERVICE_NAME_OFFSET, name);
    }

    public static int encodeAddress6(final MutableDirectBuffer buffer, final int offset, final int alias,
        final long high, final long low)
    {
        buffer.putInt(offset + ADDRESS6_ALIAS_OFFSET, alias);
        buffer.putInt(offset + ADDRESS6_ALIAS_OFFSET + 4, 0);
        buffer.putLong(offset + ADDRESS6_HIGH_OFFSET, high);
        buffer.putLong(offset + ADDRESS6_LOW_OFFSET, low);
        return ADDRESS6_LENGTH;
    }

    public static int encodeRoute(final MutableDirectBuffer buffer, final int offset, final int slot, final int nextHop)
    {
        buffer.putInt(offset + ROUTE_SLOT_OFFSET, slot);
        buffer.putInt(offset + ROUTE_NEXT_HOP_OFFSET, nextHop);
        return ROUTE_LENGTH;
    }

    public static int encodeTimeouts(final MutableDirectBuffer buffer, final int offset, final long syn,
        final long established, final long closing, final long udp)
    {
        buffer.putLong(offset + TIMEOUT_SYN_OFFSET, syn);
        buffer.putLong(offset + TIMEOUT_ESTABLISHED_OFFSET, established);
        buffer.putLong(offset + TIMEOUT_CLOSING_OFFSET, closing);
        buffer.putLong(offset + TIMEOUT_UDP_OFFSET, udp);
        return TIMEOUTS_LENGTH;
    }
}
