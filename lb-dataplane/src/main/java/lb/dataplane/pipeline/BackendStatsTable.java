package lb.dataplane.pipeline;

import java.nio.ByteBuffer;
import lb.dataplane.sched.AdminState;
import lb.dataplane.sched.BackendPool;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Per-backend state and counters in one off-heap region, written by the dataplane worker and
 * read by the control side at any time, the way Agrona counters are: the worker is the only
 * writer and stores with release semantics, readers load with acquire semantics. The control side
 * therefore never touches the worker's pools to answer {@code show stat}.
 *
 * <p>One 64-byte slot per (service id, backend pool slot), at
 * {@code (serviceId * MAX_BACKENDS + poolSlot) * SLOT_LENGTH}:
 * <pre>
 *   0  int  ip            4  int  port (0: the service's)
 *   8  int  handle (0: slot free; written last on add, first on delete)
 *  12  int  weight       16  int  admin state (AdminState ordinal)
 *  20  int  health bits: 1 healthy (ARP), 2 its service's TCP check fails
 *  24  long mac          32  long active flows   40 long new flows
 *  48  long packets (both directions)            56 long bytes (both directions)
 * </pre>
 */
public final class BackendStatsTable
{
    public static final int MAX_SERVICES = 256;
    public static final int MAX_BACKENDS = BackendPool.DEFAULT_CAPACITY;
    public static final int SLOT_LENGTH = 64;

    public static final int IP_OFFSET = 0;
    public static final int PORT_OFFSET = 4;
    public static final int HANDLE_OFFSET = 8;
    public static final int WEIGHT_OFFSET = 12;
    public static final int ADMIN_STATE_OFFSET = 16;
    public static final int HEALTHY_OFFSET = 20;
    /** Bits of the word at {@link #HEALTHY_OFFSET}. */
    public static final int HEALTHY_BIT = 1;
    public static final int CHECK_FAILING_BIT = 2;
    public static final int MAC_OFFSET = 24;
    public static final int ACTIVE_FLOWS_OFFSET = 32;
    public static final int NEW_FLOWS_OFFSET = 40;
    public static final int PACKETS_OFFSET = 48;
    public static final int BYTES_OFFSET = 56;

    private static final AdminState[] ADMIN_STATES = AdminState.values();

    private final UnsafeBuffer buffer =
        new UnsafeBuffer(ByteBuffer.allocateDirect(MAX_SERVICES * MAX_BACKENDS * SLOT_LENGTH));

    static int offset(final int serviceId, final int handle)
    {
        return (serviceId * MAX_BACKENDS + BackendPool.slotOf(handle)) * SLOT_LENGTH;
    }

    private static int slotOffset(final int serviceId, final int poolSlot)
    {
        return (serviceId * MAX_BACKENDS + poolSlot) * SLOT_LENGTH;
    }

    // ---- worker side (single writer) --------------------------------------------------------

    /** Publishes a backend's configuration and state after a change (add, weight, state, health). */
    public void publish(final int serviceId, final BackendPool pool, final int handle)
    {
        final int o = offset(serviceId, handle);
        final boolean added = buffer.getInt(o + HANDLE_OFFSET) != handle;
        if (added)
        {
            buffer.putIntRelease(o + HANDLE_OFFSET, 0);
            buffer.putLongRelease(o + NEW_FLOWS_OFFSET, 0);
            buffer.putLongRelease(o + PACKETS_OFFSET, 0);
            buffer.putLongRelease(o + BYTES_OFFSET, 0);
        }
        buffer.putIntRelease(o + IP_OFFSET, pool.ip(handle));
        buffer.putIntRelease(o + PORT_OFFSET, pool.port(handle));
        buffer.putIntRelease(o + WEIGHT_OFFSET, pool.weight(handle));
        buffer.putIntRelease(o + ADMIN_STATE_OFFSET, pool.adminState(handle).ordinal());
        buffer.putIntRelease(o + HEALTHY_OFFSET,
            (pool.isHealthy(handle) ? HEALTHY_BIT : 0) | (pool.isCheckPassing(handle) ? 0 : CHECK_FAILING_BIT));
        buffer.putLongRelease(o + MAC_OFFSET, pool.mac(handle));
        buffer.putLongRelease(o + ACTIVE_FLOWS_OFFSET, pool.activeFlows(handle));
        buffer.putIntRelease(o + HANDLE_OFFSET, handle);
    }

    /** The backend is gone from its pool. */
    public void remove(final int serviceId, final int handle)
    {
        buffer.putIntRelease(offset(serviceId, handle) + HANDLE_OFFSET, 0);
    }

    /** Every backend slot of a service is free (the service was deleted or is new). */
    public void clearService(final int serviceId)
    {
        for (int slot = 0; slot < MAX_BACKENDS; slot++)
        {
            buffer.putIntRelease(slotOffset(serviceId, slot) + HANDLE_OFFSET, 0);
        }
    }

    /** A flow started on the backend: hot path, two release stores. */
    void flowStarted(final int serviceId, final int handle, final int activeFlows)
    {
        final int o = offset(serviceId, handle);
        buffer.putLongRelease(o + ACTIVE_FLOWS_OFFSET, activeFlows);
        buffer.putLongRelease(o + NEW_FLOWS_OFFSET, buffer.getLong(o + NEW_FLOWS_OFFSET) + 1);
    }

    /** A flow on the backend ended (FIN/RST, expiry, re-pick). */
    void flowEnded(final int serviceId, final int handle, final int activeFlows)
    {
        buffer.putLongRelease(offset(serviceId, handle) + ACTIVE_FLOWS_OFFSET, activeFlows);
    }

    /** One frame of a flow on the backend was forwarded, either direction: hot path. */
    void countFrame(final int serviceId, final int handle, final int bytes)
    {
        final int o = offset(serviceId, handle);
        buffer.putLongRelease(o + PACKETS_OFFSET, buffer.getLong(o + PACKETS_OFFSET) + 1);
        buffer.putLongRelease(o + BYTES_OFFSET, buffer.getLong(o + BYTES_OFFSET) + bytes);
    }

    // ---- reader side (any thread) ------------------------------------------------------------

    /** @return the handle in a slot, 0 when the slot holds no backend. */
    public int handle(final int serviceId, final int poolSlot)
    {
        return buffer.getIntAcquire(slotOffset(serviceId, poolSlot) + HANDLE_OFFSET);
    }

    public int ip(final int serviceId, final int poolSlot)
    {
        return buffer.getIntAcquire(slotOffset(serviceId, poolSlot) + IP_OFFSET);
    }

    public int port(final int serviceId, final int poolSlot)
    {
        return buffer.getIntAcquire(slotOffset(serviceId, poolSlot) + PORT_OFFSET);
    }

    public int weight(final int serviceId, final int poolSlot)
    {
        return buffer.getIntAcquire(slotOffset(serviceId, poolSlot) + WEIGHT_OFFSET);
    }

    public AdminState adminState(final int serviceId, final int poolSlot)
    {
        return ADMIN_STATES[buffer.getIntAcquire(slotOffset(serviceId, poolSlot) + ADMIN_STATE_OFFSET)];
    }

    /** @return whether ARP finds the backend. */
    public boolean healthy(final int serviceId, final int poolSlot)
    {
        return (buffer.getIntAcquire(slotOffset(serviceId, poolSlot) + HEALTHY_OFFSET) & HEALTHY_BIT) != 0;
    }

    /** @return whether its service's TCP check passes (always, without a check). */
    public boolean checkPassing(final int serviceId, final int poolSlot)
    {
        return (buffer.getIntAcquire(slotOffset(serviceId, poolSlot) + HEALTHY_OFFSET) & CHECK_FAILING_BIT) == 0;
    }

    public long mac(final int serviceId, final int poolSlot)
    {
        return buffer.getLongAcquire(slotOffset(serviceId, poolSlot) + MAC_OFFSET);
    }

    public long activeFlows(final int serviceId, final int poolSlot)
    {
        return buffer.getLongAcquire(slotOffset(serviceId, poolSlot) + ACTIVE_FLOWS_OFFSET);
    }

    public long newFlows(final int serviceId, final int poolSlot)
    {
        return buffer.getLongAcquire(slotOffset(serviceId, poolSlot) + NEW_FLOWS_OFFSET);
    }

    public long packets(final int serviceId, final int poolSlot)
    {
        return buffer.getLongAcquire(slotOffset(serviceId, poolSlot) + PACKETS_OFFSET);
    }

    public long bytes(final int serviceId, final int poolSlot)
    {
        return buffer.getLongAcquire(slotOffset(serviceId, poolSlot) + BYTES_OFFSET);
    }
}
